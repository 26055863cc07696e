"""An unknown keyword to a public constructor is a TypeError naming the class and listing the valid keywords."""

import inspect
import re

import numpy as np
import pytest

from chainrule import data, nn, optim
from chainrule.keywords import CheckedKeywords

PUBLIC_CLASSES = [
    getattr(module, name)
    for module in (nn, optim, data)
    for name in module.__all__
    if isinstance(getattr(module, name), type)
]


def test_every_public_class_checks_its_keywords():
    unchecked = [cls.__name__ for cls in PUBLIC_CLASSES if not issubclass(cls, CheckedKeywords)]
    assert unchecked == []
    swallowing = [
        cls.__name__
        for cls in PUBLIC_CLASSES
        if any(p.kind is p.VAR_KEYWORD for p in inspect.signature(cls).parameters.values())
    ]
    assert swallowing == []


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda cls: cls.__name__)
def test_an_unknown_keyword_names_the_class_and_lists_the_valid_ones(cls):
    valid = [
        name
        for name, p in inspect.signature(cls).parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    with pytest.raises(TypeError) as raised:
        cls(no_such_option=1)  # refused before the constructor runs, so no other argument is needed
    assert str(raised.value) == (
        f"{cls.__name__}: unexpected keyword argument 'no_such_option'; valid keywords: {', '.join(valid) or 'none'}"
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: nn.Linear(4, 2, bais=False),
            "Linear: unexpected keyword argument 'bais' (did you mean 'bias'?); "
            "valid keywords: in_features, out_features, bias, dtype",
        ),
        (
            lambda: nn.CrossEntropyLoss(reduce="sum"),
            "CrossEntropyLoss: unexpected keyword argument 'reduce' (did you mean 'reduction'?)",
        ),
        (
            lambda: optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1, momentun=0.9),
            "SGD: unexpected keyword argument 'momentun' (did you mean 'momentum'?)",
        ),
        (
            lambda: data.DataLoader(data.TensorDataset(np.zeros(3)), batchsize=2),
            "DataLoader: unexpected keyword argument 'batchsize' (did you mean 'batch_size'?)",
        ),
        (
            lambda: nn.Identity(4, out_features=4),
            "Identity: unexpected keyword argument 'out_features'; valid keywords: none",
        ),
    ],
)
def test_a_typo_gets_the_closest_valid_keyword(make, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        make()


def test_valid_keywords_and_positional_arguments_still_work():
    layer = nn.Linear(in_features=4, out_features=2, bias=False)
    assert layer.bias is None and nn.Identity(4)(np.ones(2)) is not None
    assert optim.StepLR(optim.SGD(layer.parameters(), lr=0.1), step_size=2, gamma=0.5).step_size == 2
    # The wrapped constructor keeps its signature (names and defaults; the annotations are there too).
    parameters = inspect.signature(nn.Linear).parameters.values()
    assert [(p.name, p.default) for p in parameters] == [
        ("in_features", inspect.Parameter.empty),
        ("out_features", inspect.Parameter.empty),
        ("bias", True),
        ("dtype", None),
    ]


def test_a_users_module_is_checked_too_unless_it_takes_any_keyword():
    class Net(nn.Module):
        def __init__(self, width=4):
            super().__init__()
            self.fc = nn.Linear(width, 2)

    class Flexible(nn.Module):
        def __init__(self, **settings):
            super().__init__()
            self.settings = settings

    with pytest.raises(
        TypeError,
        match=re.escape("Net: unexpected keyword argument 'widht' (did you mean 'width'?); valid keywords: width"),
    ):
        Net(widht=8)
    assert Flexible(anything=1).settings == {"anything": 1}
