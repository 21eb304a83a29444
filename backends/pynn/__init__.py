"""PyNN backends: one description, run on NEST, Brian2 or SpiNNaker through PyNN 0.13.

``ns.compile(net, backend="nest" | "pynn-brian2" | "spinnaker", **options)`` returns a
:class:`~neurosim.backends.pynn.simulation.PyNNSimulation` with numba's surface
(``run(ms)`` repeatable, ``reset()``, ``get``/``set``, ``get_weights``/``set_weights``,
``t``, ``results``) plus ``close()`` and ``info``.

* :mod:`.translations` — declarative tables neurosim -> PyNN (names and unit factors).
* :mod:`.capabilities` — the capability profiles and the checks ``compile`` runs before
  any PyNN call (``UnsupportedFeatureError`` naming the object, the feature, the limit
  and an alternative).
* :mod:`.simulation` — the generic Simulation: populations, sources, currents,
  ``FromListConnector`` projections with the BuiltNetwork's weights and delays, recording,
  Neo -> Results.
* :mod:`.nest`, :mod:`.brian2`, :mod:`.spinnaker` — one module per simulator: its
  ``PROFILE``, ``compile`` and the simulator-specific pieces (time stamps, state access,
  sPyNNaker's run directory, virtual board and 16-bit weights).

PyNN keeps module-global simulator state, so a process holds one live simulation per
PyNN module; ``sim.close()`` (or ``with ns.compile(...) as sim``) ends it.
"""
