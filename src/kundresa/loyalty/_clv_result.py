"""The result of a maximum-likelihood fit: a frozen :class:`ModelFit`.

>>> fit = ModelFit("sbg", {"alpha": 0.70, "beta": 1.18}, {"alpha": 0.05, "beta": 0.12},
...                log_likelihood=-1680.27, customers=1000.0, rows=8, converged=True)
>>> fit.values
(0.7, 1.18)
>>> fit.to_frame().to_dict("records")[0]
{'parameter': 'alpha', 'estimate': 0.7, 'standard_error': 0.05}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from kundresa._results import Result

__all__ = ["MODELS", "ConvergenceWarning", "Model", "ModelFit"]

Model = Literal["bg_nbd", "pareto_nbd", "mbg_nbd", "bg_bb", "sbg", "gamma_gamma"]

#: each model's parameters, in the order the likelihoods take them
MODELS: Mapping[str, tuple[str, ...]] = {
    "bg_nbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
    "mbg_nbd": ("r", "alpha", "a", "b"),
    "bg_bb": ("alpha", "beta", "gamma", "delta"),
    "sbg": ("alpha", "beta"),
    "gamma_gamma": ("p", "q", "gamma"),
}


def _no_nan(value: Any) -> Any:
    """``value`` with every float NaN replaced by ``None`` (mappings and sequences too; a
    mapping comes back as a tuple of its items when ``value`` is not a plain ``dict``, so
    the result hashes).

    >>> _no_nan({"a": float("nan"), "b": [1.0, float("nan")]})
    {'a': None, 'b': [1.0, None]}
    """
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return tuple((k, _no_nan(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_no_nan(v) for v in value)
    return value


class ConvergenceWarning(UserWarning):
    """A fit did not converge, ended at a parameter boundary, or has no standard errors
    (the Hessian of the negative log-likelihood is not positive definite there).

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("bg_nbd: a = 1e9 is at the boundary", ConvergenceWarning)
    >>> caught[0].category.__name__
    'ConvergenceWarning'
    """


@dataclass(frozen=True)
class ModelFit(Result):
    """A fitted customer-base model: parameter estimates, their standard errors (from the
    Hessian of the negative log-likelihood, exact for BG/NBD and Gamma-Gamma, numerical
    otherwise; NaN, ``null`` in JSON, when it is not positive definite; see
    :func:`~kundresa.loyalty.fit_bg_nbd`),
    the maximised log-likelihood, and how the optimiser ended.

    ``customers`` is the number of customers (the sum of the weights) and ``rows`` the
    number of distinct summary rows the likelihood was evaluated on.

    >>> ModelFit("gamma_gamma", {"p": 6.25, "q": 3.74, "gamma": 15.44}, {}, -4055.9, 946, 946,
    ...          True)["q"]
    3.74
    """

    model: Model
    params: Mapping[str, float]
    standard_errors: Mapping[str, float]
    log_likelihood: float
    customers: float
    rows: int
    converged: bool
    at_boundary: bool = False
    iterations: int = 0
    message: str = ""
    covariance: tuple[tuple[float, ...], ...] = ()
    seconds: float = field(default=0.0, compare=False)

    def __getitem__(self, name: str) -> float:
        """The estimate of parameter ``name``."""
        return float(self.params[name])

    def _key(self) -> tuple[Any, ...]:
        """The compared fields (not ``seconds``), a NaN as ``None``: a fit whose standard
        errors are NaN (no positive-definite Hessian) still equals itself and its copies."""
        return tuple(
            _no_nan(getattr(self, f.name))
            for f in fields(self)
            if f.compare and f.name != "seconds"
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, ModelFit)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary; NaN (standard errors without a positive-definite
        Hessian) becomes ``None``, so :meth:`to_json` is valid JSON (``null``)."""
        out = _no_nan(super().to_dict())
        assert isinstance(out, dict)
        return out

    @property
    def values(self) -> tuple[float, ...]:
        """The estimates in the model's parameter order (:data:`MODELS`)."""
        return tuple(float(self.params[n]) for n in MODELS[self.model])

    def to_frame(self) -> Any:
        """One row per parameter: ``parameter``, ``estimate``, ``standard_error``."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "parameter": n,
                    "estimate": float(self.params[n]),
                    "standard_error": float(self.standard_errors.get(n, float("nan"))),
                }
                for n in MODELS[self.model]
            ]
        )

    def __str__(self) -> str:
        lines = [
            f"{self.model}: log-likelihood {self.log_likelihood:.3f} on {self.customers:g} "
            f"customers ({self.rows} distinct rows)"
            + ("" if self.converged and not self.at_boundary else "; see the warning"),
        ]
        for n in MODELS[self.model]:
            se = self.standard_errors.get(n, float("nan"))
            lines.append(f"  {n:>6} = {self.params[n]:.6g}  (se {se:.3g})")
        return "\n".join(lines)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
