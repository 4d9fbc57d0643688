"""A generation does Reflex's preload for forked workers itself, without the full collection
Reflex runs before freezing the heap (`generation._import_app_for_fork`: 0.13-0.15 s of every
start). A Reflex upgrade that changes that preload fails here: the generation must then do
the new step too (or use Reflex's preload again)."""

from __future__ import annotations

import ast
import inspect
import textwrap

from reflex.utils import exec as reflex_exec

from pwpush_app import generation


def _calls(function) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}


def test_the_generation_does_every_step_of_reflexs_preload_but_the_collection():
    assert _calls(reflex_exec._preload_for_fork) == {
        "prerequisites.get_app", "serializers._prepare_serializers_for_fork", "_freeze_for_fork"}
    assert _calls(reflex_exec._freeze_for_fork) == {"telemetry._shutdown_executor", "gc.collect", "gc.freeze"}
    ours = _calls(generation._import_app_for_fork)
    assert ours == {"prerequisites.get_app", "serializers._prepare_serializers_for_fork",
                    "telemetry._shutdown_executor"}
    # ... and the heap is frozen, once the app is built, before the workers are forked.
    assert "gc.freeze" in _calls(generation.run_generation) and "gc.collect" not in _calls(generation.run_generation)
