"""HTM sequence memory (Hawkins & Ahmad 2016; Cui, Ahmad & Hawkins 2016).

Modules (installed as ``neurosim.models.htm``):

* :mod:`.sdr` — SDR helpers and the Ahmad & Hawkins false-match / false-negative formulas;
* :mod:`.encoders` — scalar, random distributed scalar (RDSE) and date encoders;
* :mod:`.spatial_pooler` — spatial pooler with global or local inhibition;
* :mod:`.temporal_memory` — the reference (non-spiking) temporal memory, numba-compiled;
* :mod:`.backtracking_tm` — NuPIC's backtracking temporal memory (NAB's `numenta` detector);
  its cached numba kernels are :mod:`.backtracking_kernels`;
* :mod:`.spiking_temporal_memory` — the temporal memory as spiking cells, segments and column
  inhibition on the numba backend (learning reuses the reference's bookkeeping);
* :mod:`.pynn_export` — a learned temporal memory, weights frozen, as PyNN standard cells
  (numba, nest; maps on the SpiNNaker virtual board);
* :mod:`.prediction` — SDR classifier and the NRMSE / MAPE metrics of Cui et al.;
* :mod:`.nab` — NAB v1.1 scoring and the anomaly likelihood;
* :mod:`.detector` — the HTM anomaly detector used on NAB;
* :mod:`.data` — loaders for the NYC taxi and NAB data in ``../shared/data``.

Parameter names and defaults follow htm.core (camelCase, e.g. ``cellsPerColumn``).
"""
from .encoders import RDSE, DateEncoder, MultiEncoder, ScalarEncoder
from .nab import AnomalyLikelihood, score_corpus
from .prediction import SDRClassifier, k_step_metrics, mape, nrmse
from .sdr import p_false_match, p_false_match_union, p_false_negative
from .spatial_pooler import SpatialPooler
from .spiking_temporal_memory import SpikingTemporalMemory
from .temporal_memory import TemporalMemory, raw_anomaly_score

__all__ = ["ScalarEncoder", "RDSE", "DateEncoder", "MultiEncoder", "SpatialPooler", "TemporalMemory",
           "SpikingTemporalMemory", "raw_anomaly_score", "SDRClassifier", "nrmse", "mape", "k_step_metrics", "AnomalyLikelihood",
           "score_corpus", "p_false_match", "p_false_match_union", "p_false_negative"]
