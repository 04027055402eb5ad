"""How a figure compares with its goal, said plainly in every table."""

from __future__ import annotations


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def at_most(value: float, goal: float, text: str) -> str:
    return f"(goal {text}: {verdict(value <= goal)})"


def at_least(value: float, goal: float, text: str) -> str:
    return f"(goal {text}: {verdict(value >= goal)})"
