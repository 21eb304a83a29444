"""One exception hierarchy for everything neurosim raises on purpose.

``NeurosimError`` is the root; catch it to catch every error that names the
user's object.  Each subclass carries the pieces of its message as attributes
so tools can inspect them without parsing text.
"""


class NeurosimError(Exception):
    """Root of every error neurosim raises deliberately."""


class ValidationError(NeurosimError, ValueError):
    """A description object got a value it cannot accept.

    ``obj`` names the object (``"Population 'exc'"`` or a class name), ``attr``
    the parameter.  The message reads ``obj.attr: what is wrong (got value)``.
    """

    def __init__(self, obj, attr, message):
        self.obj = obj
        self.attr = attr
        where = f"{obj}.{attr}" if attr else f"{obj}"
        super().__init__(f"{where}: {message}")


class UnsupportedFeatureError(NeurosimError):
    """A backend cannot run a feature the description uses."""

    def __init__(self, backend, feature, hint=""):
        self.backend = backend
        self.feature = feature
        self.hint = hint
        text = f"backend '{backend}' does not support {feature}"
        if hint:
            text += f"; {hint}"
        super().__init__(text)


class SimulationDivergedError(NeurosimError):
    """A state variable became NaN or infinite during a run."""

    def __init__(self, population, variable, time, index=None):
        self.population = population
        self.variable = variable
        self.time = time
        self.index = index
        where = f" (neuron {index})" if index is not None else ""
        super().__init__(
            f"Population '{population}': variable '{variable}' became NaN or infinite"
            f"{where} at t = {time:g} ms; reduce dt or check the model's parameters")
