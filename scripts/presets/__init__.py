"""One builder module per experiment preset: ``scripts/presets/<preset>.py`` writes ``data/presets/<preset>.toml``.

scripts/make_experiment_presets.py finds every module here whose name does not start with ``_`` and uses:

* ``NAME``: the preset's name, equal to the module's (the file it writes);
* ``table() -> (t_kevnr, efficiency)``: the [recoil] efficiency table, computed from the paper's detector response;
* ``preset_text(x, y) -> str``: the whole preset TOML (start it with ``_common.HEADER``, put the table in with
  ``_common.recoil_block`` and, for a beam analysis, its window with ``_common.window_block(WINDOW)``);
* ``PAPER``: ``(value, tolerance, what, source)`` of the published prediction, or None (``--compare`` prints it);
* optional ``WINDOW = (start_ns, stop_ns)``: the analysis beam window (``--compare`` applies its acceptance);
* optional ``compare_notes(n) -> dict``: extra ``--compare`` numbers (variants of the rate, ``n`` the preset's).

To add an experiment: copy the closest module to ``scripts/presets/<new preset>.py``, change its inputs (each with
its citation or an [ASSUMED] tag) and its text, run ``python scripts/make_experiment_presets.py`` and add the name to
PRESETS in tests/generator/test_experiment_presets.py with a test against the paper. Helpers more than one
experiment uses go in ``_common.py``; what only one uses stays in its module.
"""
