"""Typed, frozen dataclass configs: ``--set key=value`` overrides and JSON round-trips.

Configs are plain ``@dataclass(frozen=True)`` classes whose defaults are the paper's values (each field's comment
cites the paper section). Nested dataclasses are addressed with dots: ``--set optim.lr=2e-4``.

    cfg = apply_overrides(cfg, ["lr=2e-4", "use_mi_loss=false"])
    assert config_from_json(type(cfg), config_to_json(cfg)) == cfg
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from vidbench.errors import VidbenchError

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}


class ConfigError(VidbenchError):
    pass


def _field_types(cls) -> dict[str, Any]:
    return get_type_hints(cls)


def parse_value(text: str, tp: Any, key: str = "value") -> Any:
    """Parse the string ``text`` into type ``tp`` (int, float, bool, str, Literal, Optional, tuple, list)."""
    origin = get_origin(tp)
    if tp is Any:
        return text
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if type(None) in get_args(tp) and text.strip().lower() in {"none", "null", ""}:
            return None
        errors = []
        for a in args:
            try:
                return parse_value(text, a, key)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(f"bad value {text!r} for {key}: expected {tp}")
    if origin is Literal:
        allowed = get_args(tp)
        for a in allowed:
            if str(a) == text or (isinstance(a, bool) and text.lower() in (_TRUE if a else _FALSE)):
                return a
        raise ConfigError(f"bad value {text!r} for {key}: choose one of {', '.join(map(str, allowed))}")
    if origin in (tuple, list):
        args = get_args(tp)
        parts = [p.strip() for p in text.strip("()[] ").split(",") if p.strip()] if text.strip("()[] ") else []
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(parts) != len(args):
                raise ConfigError(f"bad value {text!r} for {key}: expected {len(args)} comma-separated items")
            return tuple(parse_value(p, a, key) for p, a in zip(parts, args))
        inner = args[0] if args else str
        vals = [parse_value(p, inner, key) for p in parts]
        return tuple(vals) if origin is tuple else vals
    if tp is bool:
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ConfigError(f"bad value {text!r} for {key}: expected true/false")
    if tp is int:
        try:
            f = float(text)
        except ValueError:
            raise ConfigError(f"bad value {text!r} for {key}: expected an integer") from None
        if not f.is_integer():
            raise ConfigError(f"bad value {text!r} for {key}: expected an integer")
        return int(f)
    if tp is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"bad value {text!r} for {key}: expected a number") from None
    if tp is str:
        return text
    raise ConfigError(f"cannot parse {key} of type {tp} from the command line")


def config_keys(cfg_or_cls, prefix: str = "") -> list[str]:
    """All settable dotted keys of a config dataclass."""
    cls = cfg_or_cls if isinstance(cfg_or_cls, type) else type(cfg_or_cls)
    keys = []
    hints = _field_types(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            keys += config_keys(tp, prefix + f.name + ".")
        else:
            keys.append(prefix + f.name)
    return keys


def _set(cfg, path: list[str], text: str, full_key: str):
    hints = _field_types(type(cfg))
    names = {f.name for f in dataclasses.fields(cfg)}
    head = path[0]
    if head not in names:
        raise ConfigError(f"unknown config key {full_key!r}; valid keys: {', '.join(config_keys(cfg))}")
    tp = hints[head]
    if len(path) > 1:
        sub = getattr(cfg, head)
        if not dataclasses.is_dataclass(sub):
            raise ConfigError(f"unknown config key {full_key!r}; valid keys: {', '.join(config_keys(cfg))}")
        return dataclasses.replace(cfg, **{head: _set(sub, path[1:], text, full_key)})
    if dataclasses.is_dataclass(tp):
        raise ConfigError(f"{full_key!r} is a group; set one of its fields, e.g. {full_key}.{dataclasses.fields(tp)[0].name}=...")
    return dataclasses.replace(cfg, **{head: parse_value(text, tp, full_key)})


def apply_overrides(cfg: T, overrides: list[str] | tuple[str, ...]) -> T:
    """Return a copy of ``cfg`` with ``key=value`` overrides applied (values parsed to the field's type).

    Raises :class:`ConfigError` (exit 2 from the CLI) for an unknown key or a value of the wrong type.
    """
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"bad override {item!r}: use key=value; valid keys: {', '.join(config_keys(cfg))}")
        key, text = item.split("=", 1)
        key = key.strip()
        cfg = _set(cfg, key.split("."), text.strip(), key)
    post = getattr(cfg, "validate", None)
    if callable(post):
        post()
    return cfg


def config_to_dict(cfg) -> dict:
    d = dataclasses.asdict(cfg)
    return d


def config_to_json(cfg, **kw) -> str:
    return json.dumps({"__class__": type(cfg).__name__, **config_to_dict(cfg)}, sort_keys=True, indent=kw.get("indent", 2))


def _from_value(value, tp):
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return config_from_dict(tp, value)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        for a in get_args(tp):
            if a is type(None):
                continue
            try:
                return _from_value(value, a)
            except (TypeError, ValueError, ConfigError):
                continue
        return value
    if origin is tuple and isinstance(value, list):
        args = get_args(tp)
        if args and args[-1] is not Ellipsis:
            return tuple(_from_value(v, a) for v, a in zip(value, args))
        return tuple(_from_value(v, args[0] if args else Any) for v in value)
    return value


def config_from_dict(cls: type[T], data: dict) -> T:
    hints = _field_types(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    data = {k: v for k, v in data.items() if k != "__class__"}
    unknown = set(data) - names
    if unknown:
        raise ConfigError(f"unknown config keys {sorted(unknown)} for {cls.__name__}; valid: {sorted(names)}")
    return cls(**{k: _from_value(v, hints[k]) for k, v in data.items()})


def config_from_json(cls: type[T], text: str) -> T:
    return config_from_dict(cls, json.loads(text))


__all__ = [
    "ConfigError",
    "apply_overrides",
    "config_keys",
    "config_to_dict",
    "config_to_json",
    "config_from_dict",
    "config_from_json",
    "parse_value",
]
_ = typing
