from dataclasses import dataclass, field
from typing import Literal, Optional

import pytest

from vidbench.config import ConfigError, apply_overrides, config_from_json, config_keys, config_to_json


@dataclass(frozen=True)
class Optim:
    lr: float = 1e-4  # paper App. B
    betas: tuple[float, float] = (0.5, 0.999)


@dataclass(frozen=True)
class Cfg:
    steps: int = 10
    recipe: Literal["paper", "released"] = "paper"
    use_mi_loss: bool = True
    name: str = "x"
    pca: Optional[str] = None
    optim: Optim = field(default_factory=Optim)


def test_overrides_parse_to_field_types():
    c = apply_overrides(Cfg(), ["steps=20", "recipe=released", "use_mi_loss=false", "optim.lr=2e-4",
                                "optim.betas=0,0.99", "pca=none", "name=a=b"])
    assert c.steps == 20 and isinstance(c.steps, int)
    assert c.recipe == "released"
    assert c.use_mi_loss is False
    assert c.optim.lr == 2e-4 and c.optim.betas == (0.0, 0.99)
    assert c.pca is None and c.name == "a=b"
    assert Cfg().steps == 10  # frozen originals unchanged


@pytest.mark.parametrize("bad,match", [
    (["stepz=3"], "unknown config key 'stepz'.*steps"),
    (["steps=abc"], "expected an integer"),
    (["steps=1.5"], "expected an integer"),
    (["recipe=other"], "choose one of paper, released"),
    (["use_mi_loss=maybe"], "true/false"),
    (["optim=3"], "is a group"),
    (["noequals"], "use key=value"),
])
def test_bad_overrides_name_the_fix(bad, match):
    with pytest.raises(ConfigError, match=match):
        apply_overrides(Cfg(), bad)


def test_json_round_trip_and_keys():
    c = apply_overrides(Cfg(), ["optim.betas=0.1,0.2", "pca=/x.npz"])
    assert config_from_json(Cfg, config_to_json(c)) == c
    assert config_keys(Cfg) == ["steps", "recipe", "use_mi_loss", "name", "pca", "optim.lr", "optim.betas"]
