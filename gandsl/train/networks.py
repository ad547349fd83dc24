"""The networks part of a run: the spec's networks on the device, initialized as its train
section says (`init`, then pretrained `load`), frozen ones in eval mode; and what follows a
player's step (`ema`, `clip`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..runtime.penalties import clip_weights
from .config import data_root
from .ema import EMA
from .init import initialize
from .weights import load_weights


def networks_of(players: dict[str, list[str]], name: str) -> list[str]:
    """The networks a train option names: a player's, or one network."""
    return players.get(name, [name])


def build_networks(loaded: Any, device: torch.device,
                   channels_last: bool) -> tuple[dict[str, nn.Module], frozenset[str]]:
    """Every network of the spec on `device`, and the names of the frozen ones (a fixed
    feature extractor never learns and runs in eval mode)."""
    networks: dict[str, nn.Module] = {name: cls().to(device)
                                      for name, cls in loaded.classes.items()}
    if channels_last and device.type == "cuda":
        for net in networks.values():
            net.to(memory_format=torch.channels_last)
    frozen = frozenset(n.name for n in loaded.spec.networks if n.frozen)
    for name in frozen:
        networks[name].eval().requires_grad_(False)
    return networks, frozen


def initialize_networks(networks: dict[str, nn.Module], players: dict[str, list[str]],
                        options: list, spec_path: str, load: bool,
                        note: Callable[[str], None]) -> None:
    """`init` options first, then `load` ones (pretrained weights; not when `load` is False,
    for a resumed run whose checkpoint holds them)."""
    for opt in options:
        if opt.kind == "init":
            for net in networks_of(players, opt.player):
                initialize(networks[net], opt.fn, opt.kwargs)
    for opt in options:
        if opt.kind == "load" and load:
            load_network(networks, opt, spec_path, note)


def load_network(networks: dict[str, nn.Module], opt: Any, spec_path: str,
                 note: Callable[[str], None]) -> None:
    """`load NET ("file")`: a path relative to the project folder, as data paths are; an
    empty path keeps the network's initial weights, said once."""
    given = str(opt.kwargs["path"])
    if not given:
        note(f"`{opt.player}` keeps its initial weights: its `load` path is empty")
        return
    path = Path(given) if Path(given).is_absolute() else data_root(spec_path) / given
    line = load_weights(networks[opt.player], path, bool(opt.kwargs.get("order")),
                        f"{spec_path}: load {opt.player}", opt.kwargs.get("prefix", ""))
    note(f"`{opt.player}`: {line}")


def after_steps(networks: dict[str, nn.Module], players: dict[str, list[str]], options: list,
                step: Callable[[], int]
                ) -> tuple[dict[str, EMA], dict[str, list[Callable[[], None]]]]:
    """The EMA copies (by the name the option gives) and, per player, what runs after its
    step: EMA and clipping name a player or one of its networks, and act after that player's
    step on the networks named. `step()` is the run's step when an EMA updates."""
    owner = {n: p for p, nets in players.items() for n in nets}
    ema: dict[str, EMA] = {}
    after: dict[str, list[Callable[[], None]]] = {p: [] for p in players}
    for opt in options:
        if opt.kind not in ("ema", "clip"):
            continue
        nets = networks_of(players, opt.player)
        player = opt.player if opt.player in players else owner[opt.player]
        if opt.kind == "ema":
            average = EMA({n: networks[n] for n in nets}, float(opt.kwargs.get("decay", 0.999)),
                          int(opt.kwargs.get("start", 0)), int(opt.kwargs.get("every", 1)))
            ema[opt.player] = average
            after[player].append(lambda average=average: average.update(step()))
        elif opt.kind == "clip":
            value = float(opt.kwargs["value"])
            after[player] += [lambda net=networks[n], value=value: clip_weights(net, value)
                              for n in nets]
    return ema, after
