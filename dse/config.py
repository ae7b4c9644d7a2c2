"""The sweep's TOML config: loading, command-line overrides and validation.

A config has two tables (see ``docs/sweep.md`` and the embedded ``dse/default.toml``):

``[sweep]``  how to run: ``output``, ``seeds``, ``search``, ``trials``, ``workers``.
``[space]``  what to run: every key takes one value or a list of values, and the
             lists are the axes of the sweep (their Cartesian product is the grid).

A user's file is laid over the embedded default key by key, so it need only name
what it changes; ``--set KEY=VALUE`` flags are laid over that.  Everything is
checked before any work starts: an unknown table, key, format name or value raises
:class:`ConfigError` with one sentence naming it and the valid choices.
"""
from __future__ import annotations

import copy
import difflib
import importlib.resources
import math
import tomllib
from pathlib import Path

__all__ = ["ConfigError", "SPACE_KEYS", "SWEEP_KEYS", "COST_KEYS", "load", "parse_override", "validate"]


class ConfigError(ValueError):
    """A config that names an unknown key or an invalid value (one clear sentence)."""


def _choices(name, value, allowed):
    allowed = list(allowed)
    if value in allowed:
        return value
    close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(f"{name} = {value!r} is not valid{hint}; choose one of: {', '.join(map(str, allowed))}")


def _format_name(name, value, extra=()):
    if not isinstance(value, str):
        raise ConfigError(f"{name} = {value!r} must be a format name (a string)")
    key = value.strip().lower()
    if key in extra:
        return key
    import formats

    try:
        formats.get(key)
    except KeyError as err:
        msg = str(err.args[0]) if err.args else str(err)
        raise ConfigError(f"{name}: {msg}; or one of: {', '.join(extra)}") from None
    except Exception as err:  # a format module that fails to import is a config problem too
        raise ConfigError(f"{name} = {value!r} cannot be loaded from formats/: {type(err).__name__}: {err}") from None
    return key


def _rounding(name, value):
    import formats

    try:
        return formats.parse_rounding(value).label
    except (KeyError, ValueError, TypeError) as err:
        raise ConfigError(f"{name}: {err.args[0] if err.args else err}") from None


def _int(lo):
    def check(name, value):
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            raise ConfigError(f"{name} = {value!r} must be an integer >= {lo}")
        return value

    return check


def _positive_float(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or math.isinf(value):
        raise ConfigError(f"{name} = {value!r} must be a positive number")
    return float(value)


def _bool(name, value):
    if not isinstance(value, bool):
        raise ConfigError(f"{name} = {value!r} must be true or false")
    return value


def _one_of(*allowed):
    return lambda name, value: _choices(name, value, allowed)


def _accumulator(name, value):
    """An accumulator spec, checked by its one parser (:meth:`sim.mac.Accumulator.parse`),
    kept in its canonical spelling (``exact``, ``fp32``, ``fixed:I:F``)."""
    from sim.mac import Accumulator

    try:
        return str(Accumulator.parse(value))
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{name} = {value!r} is not valid: {err}") from None


def _memory(name, value):
    from .costs import MEMORY_PJ_PER_64BIT

    return _choices(name, value, MEMORY_PJ_PER_64BIT)


def _qat(name):
    """A list of choices from the QAT path (sim.qat), the one place they are defined."""
    from sim.qat import finetune, ptq, scaling, workloads

    return {"schedule": finetune.SCHEDULES, "granularity": scaling.GRANULARITIES, "workload": workloads.names(),
            "unsigned_acts": ptq.UNSIGNED_ACTS}[name]


def _methods():
    from .evaluate import METHODS

    return METHODS


def _method(name, value):
    return _choices(name, value, _methods())


def _or_recipe(check):
    """A value, or ``"recipe"``: the workload's tuned default (sim.qat.workloads.Recipe)."""
    return lambda name, value: value if value == "recipe" else check(name, value)


def _fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ConfigError(f"{name} = {value!r} must be a fraction in (0, 1] (of the reference's training steps) "
                          "or \"recipe\"")
    return float(value)


def _workload(name, value):
    """``"DATASET/MODEL"``: one of sim.qat's workloads; or one of your own by import path,
    ``"package.module:name"`` or ``"path/to/file.py:name"`` (imported and checked here, before any
    work: sim.qat.userload)."""
    if isinstance(value, str) and ":" in value:
        from sim.qat import userload

        try:
            spec = userload.canonical(value.strip())
            userload.load(spec)
        except userload.WorkloadError as err:
            raise ConfigError(f"{name}: {err}") from None
        return spec
    if not isinstance(value, str) or value.count("/") != 1:
        raise ConfigError(f"{name} = {value!r} must look like DATASET/MODEL, e.g. mnist1d/cnn, or name a workload "
                          "of your own as package.module:name or path/to/file.py:name")
    return _choices(name, "/".join(s.strip().lower() for s in value.split("/")), _qat("workload"))


def _qat_weights(name, value):
    """``"all"`` or a list of weight formats: the formats that get ``method = "qat"`` points."""
    if value == "all":
        return ["all"]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{name} = {value!r} must be \"all\" or a list of weight formats")
    return list(dict.fromkeys(_format_name(name, v) for v in value))


def _qat_choice(key):
    return lambda name, value: _choices(name, value, _qat(key))


def _rotation(name, value):
    """``none``, ``hadamard`` (block 64) or ``hadamard:B``, canonical (``hadamard:64`` is ``hadamard``)."""
    from sim.qat.rotation import DEFAULT_BLOCK, parse_rotation

    try:
        b = parse_rotation(value)
    except ValueError as err:
        raise ConfigError(str(err).replace("rotation", name, 1)) from None
    return "none" if b is None else "hadamard" if b == DEFAULT_BLOCK else f"hadamard:{b}"


#: values of ``scale_rule`` besides formats.scale_rules.RULES: the format's own rule, as named
SCALE_RULE_OWN = "format"


def _scale_rule(name, value):
    """``"format"`` (each format's own rule) or a scale rule of formats (floor, ceil, even, rceil, ...)."""
    from formats.scale_rules import RULES, canonical_rule

    if isinstance(value, str) and value.strip().lower() == SCALE_RULE_OWN:
        return SCALE_RULE_OWN
    try:
        return canonical_rule(str(value).strip().lower())
    except (ValueError, KeyError):
        return _choices(name, value, (SCALE_RULE_OWN, *RULES))


#: keys of [space] that set how a point's model is made (a run: these, ``workload`` split
#: into ``dataset`` and ``model``, and a seed; see dse.space)
TRAIN_KEYS = {
    "workload": _workload,
    "method": _method,
    "weights": lambda n, v: _format_name(n, v, extra=("fp32",)),
    "acts": lambda n, v: _format_name(n, v, extra=("same", "fp32")),
    "rounding": _rounding,
    "granularity": _qat_choice("granularity"),
    "quantize_first_last": _bool,
    "unsigned_acts": _qat_choice("unsigned_acts"),
    "rotation": _rotation,
    "scale_rule": _scale_rule,
    "schedule": _qat_choice("schedule"),
    "tr0": _positive_float,
    "budget": _or_recipe(_fraction),
    "finetune_lr": _or_recipe(_positive_float),
}
def _pipe(name, value):
    """The engine's pipeline (``sim.mac.PIPES``: 0, or 1 the deep pipeline)."""
    from sim.mac import PIPES

    if isinstance(value, bool) or value not in PIPES:
        raise ConfigError(f"{name} = {value!r} is not valid; choose one of: {', '.join(map(str, PIPES))} "
                          "(the engine's pipeline: 0 READ latency 14, 1 the deep pipeline)")
    return int(value)


#: keys of [space] that change only the costs of a point, never its training
COST_KEYS = {
    "target": _one_of("sky130", "ecp5"),
    "accumulator": _accumulator,
    "lanes": _int(1),
    "pipe": _pipe,
    "weight_memory": _memory,
    "act_memory": _memory,
}
SPACE_KEYS = {**TRAIN_KEYS, **COST_KEYS}
#: keys of [space] that filter the grid rather than span an axis
FILTER_KEYS = {"qat_weights": _qat_weights}


def _seeds(name, value):
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ConfigError(f"{name} must name at least one seed")
    seeds = [_int(0)(name, v) for v in values]
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ConfigError(f"{name} = {values!r} repeats {', '.join(map(str, repeated))}; give distinct seeds "
                          "(a repeated seed trains the same run again and shrinks the spread)")
    return seeds


SWEEP_KEYS = {
    "output": lambda n, v: v if isinstance(v, str) and v else _fail(f"{n} = {v!r} must be a folder path"),
    "seeds": _seeds,
    "search": _one_of("grid", "nsga2"),
    "trials": _int(1),
    "workers": _int(1),
}
SECTIONS = {"sweep": SWEEP_KEYS, "space": {**SPACE_KEYS, **FILTER_KEYS}}


def _fail(msg):
    raise ConfigError(msg)


def default_text() -> str:
    """The embedded default config, as text."""
    return importlib.resources.files("dse").joinpath("default.toml").read_text()


def _parse_toml(text, where):
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{where} is not valid TOML: {err}") from None


def parse_override(item: str) -> tuple[str, str, object]:
    """``"KEY=VALUE"`` -> (section, key, value).

    KEY is ``section.key`` or a bare key of [space] or [sweep].  VALUE is read as a
    TOML value (``4``, ``true``, ``["int4", "int8"]``); anything else is a string,
    and a comma-separated string becomes a list (``int4,int8``).
    """
    if "=" not in item:
        raise ConfigError(f"override {item!r} must look like KEY=VALUE (e.g. weights=int4,int8)")
    key, raw = (s.strip() for s in item.split("=", 1))
    if "." in key:
        section, key = key.split(".", 1)
        if section not in SECTIONS:
            _choices("override section", section, SECTIONS)
    elif key in SECTIONS["space"]:
        section = "space"
    elif key in SWEEP_KEYS:
        section = "sweep"
    else:
        _choices("override key", key, [*SECTIONS["space"], *SWEEP_KEYS])
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        parts = [p.strip() for p in raw.split(",")]
        value = [_scalar(p) for p in parts] if len(parts) > 1 else _scalar(raw)
    return section, key, value


def _scalar(text):
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def load(path: str | Path | None = None, overrides=()) -> dict:
    """The validated config: embedded default, then ``path``'s file, then ``overrides``.

    ``overrides``: (section, key, value) triples or ``"KEY=VALUE"`` strings.
    """
    cfg = _parse_toml(default_text(), "the embedded default config")
    layers = []
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text()
        except OSError as err:
            raise ConfigError(f"cannot read config file {str(p)!r}: {err.strerror or err}") from None
        layers.append((_parse_toml(text, f"config file {str(p)!r}"), str(p)))
    for section, user in layers:
        _check_keys(section, user)
        _anchor_workloads(section, Path(user).parent)
        for name, table in section.items():
            cfg[name].update(table)
    for ov in overrides:
        sec, key, value = parse_override(ov) if isinstance(ov, str) else ov
        _check_keys({sec: {key: value}}, "--set")
        cfg[sec][key] = value
    return validate(cfg)


def _anchor_workloads(section: dict, base: Path) -> None:
    """A workload named by a relative file path (``dir/file.py:name``) in a config file is
    relative to that file's folder (on the command line, ``--set``: to the working folder)."""
    space = section.get("space")
    if not isinstance(space, dict) or "workload" not in space:
        return
    raw = space["workload"]

    def anchor(v):
        if isinstance(v, str) and ":" in v:
            target, _, attr = v.strip().rpartition(":")
            if target.endswith(".py") and not Path(target).expanduser().is_absolute():
                return f"{(base / target).resolve()}:{attr}"
        return v
    space["workload"] = [anchor(v) for v in raw] if isinstance(raw, list) else anchor(raw)


def _check_keys(cfg, where):
    for name, table in cfg.items():
        if name not in SECTIONS:
            _choices(f"{where}: table [{name}]", name, SECTIONS)
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [{name}] must be a table of keys")
        for key in table:
            if key not in SECTIONS[name]:
                close = difflib.get_close_matches(key, list(SECTIONS[name]), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(
                    f"{where}: unknown key {key!r} in [{name}]{hint}; valid keys: {', '.join(SECTIONS[name])}"
                )


def validate(cfg: dict) -> dict:
    """Check every key and value; return a normalised copy (space values as lists)."""
    _check_keys(cfg, "config")
    out = {"sweep": {}, "space": {}}
    for key, check in SWEEP_KEYS.items():
        if key not in cfg.get("sweep", {}):
            raise ConfigError(f"config: [sweep] lacks key {key!r}")
        out["sweep"][key] = check(f"sweep.{key}", copy.deepcopy(cfg["sweep"][key]))
    for key, check in SPACE_KEYS.items():
        if key not in cfg.get("space", {}):
            raise ConfigError(f"config: [space] lacks key {key!r}")
        raw = cfg["space"][key]
        values = raw if isinstance(raw, list) else [raw]
        if not values:
            raise ConfigError(f"space.{key} is an empty list; give at least one value")
        normal = [check(f"space.{key}", v) for v in values]
        out["space"][key] = list(dict.fromkeys(normal))  # drop repeats, keep order
    for key, check in FILTER_KEYS.items():
        out["space"][key] = check(f"space.{key}", copy.deepcopy(cfg["space"].get(key, "all")))
    if out["sweep"]["search"] == "nsga2":
        if len(out["space"]["workload"]) > 1:
            raise ConfigError(f"search = 'nsga2' needs one workload (its objectives are in one metric's units); "
                              f"got workload = {out['space']['workload']}")
        if out["space"]["qat_weights"] != ["all"]:
            raise ConfigError(f"search = 'nsga2' explores every combination; qat_weights = "
                              f"{out['space']['qat_weights']} must be \"all\" with it")
        if len(out["space"]["target"]) > 1:
            raise ConfigError(f"search = 'nsga2' needs one cost target (sky130 and ecp5 have different cost "
                              f"objectives); got target = {out['space']['target']}")
    return out
