"""Astrocyte experiments (quick variants): numba against brian2 in the same run, and the
qualitative findings of Stimberg et al. / De Pittà et al."""
import json

import pytest

from neurosim.experiments import get_experiment


def quick_run(tmp_path_factory, name):
    """(output folder, metrics) of the quick variant of experiment ``name``."""
    out = tmp_path_factory.mktemp(name.replace("-", "_"))
    return out, get_experiment(name).run(str(out), quick=True)


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    return quick_run(tmp_path_factory, "astro-single")


@pytest.fixture(scope="module")
def synapse(tmp_path_factory):
    return quick_run(tmp_path_factory, "astro-synapse")


def test_single_astrocyte_numba_agrees_with_brian2(single):
    out, metrics = single
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert (out / "astrocyte.png").stat().st_size > 1000
    comparison = metrics["comparison"]
    assert comparison["worst"] <= 0.01 and comparison["within_1_percent"]
    assert set(comparison["max_relative_error"]) == {"astrocyte.C", "astrocyte.I", "astrocyte.h", "astrocyte.Gamma_A"}
    # glutamate pulses every 2 s trigger Ca2+ transients above 0.5 µM (paper Fig. 2: peaks ~1 µM)
    assert metrics["ca_crossings_above_0.5uM"] >= 2 and 0.7 < metrics["ca_max_uM"] < 1.5
    # the reduced (linear) astrocyte is measured, not tuned to pass: its simulated error equals
    # the error of the least-squares fit it came from (up to the refractory hold)
    reduced = metrics["reduced_astrocyte"]
    assert reduced["ca_rms_error_uM"] == pytest.approx(reduced["fit"]["rms_error"], rel=0.2)
    assert reduced["release_times_full_ms"] and reduced["release_count_mismatch"] == 0   # refractory fitted to it


def test_synapse_numba_agrees_with_brian2(synapse):
    out, metrics = synapse
    comparison = metrics["fig3"]["comparison"]
    assert comparison["worst"] <= 0.01
    assert set(comparison["max_relative_error"]) == {"astrocytes.C", "astrocytes.released"}
    assert (out / "fig3_release.png").stat().st_size > 1000
    assert (out / "fig4_release_vs_rate.png").stat().st_size > 1000


def test_gliotransmission_lowers_release_and_turns_depression_into_facilitation(synapse):
    release = synapse[1]["fig3"]["release_per_spike"]
    none, weak, strong = (release[k] for k in ("no gliotransmission", "weak (I_bias 0.8 uM)",
                                               "stronger (I_bias 1.25 uM)"))
    assert none[0] == pytest.approx(0.6)                  # first release of a rested TM synapse: U_0* x 1
    assert strong[0] < weak[0] < none[0]                  # alpha = 0: gliotransmitter lowers U_0
    # paired pulses: depression without, facilitation with gliotransmission
    assert none[1] < none[0] and weak[1] > weak[0] and strong[1] > strong[0]
    assert strong[-1] > none[-1]                          # less depletion during the 100 Hz burst


def test_release_vs_rate(synapse):
    rows = synapse[1]["fig4"]["mean_release_per_spike"]
    plain, closed, open_ = rows["no_gliotransmission"], rows["closed_loop"], rows["open_loop"]
    assert all(a > b for a, b in zip(plain, plain[1:]))   # TM depression: less per spike at higher rates
    assert all(c <= p + 0.02 for c, p in zip(closed, plain))   # alpha = 0: gliotransmission only lowers release
    assert open_[0] < 0.5 * plain[0]
    # open loop flattens the I/O curve (De Pitta et al.; Stimberg et al. Fig. 4C)
    assert max(open_) - min(open_) < 0.5 * (max(plain) - min(plain))


def test_ring_wave(tmp_path):
    metrics = get_experiment("astro-ring").run(str(tmp_path), quick=True)
    assert (tmp_path / "ring.png").stat().st_size > 1000
    assert metrics["comparison_first_400_s"]["worst"] <= 0.01
    # the wave leaves the stimulated cell and travels both ways at one speed
    first = metrics["first_crossing_s"]
    assert first[25] < first[24] < first[20] and first[25] < first[26] < first[30]
    assert abs(first[24] - first[26]) < 0.1 and abs(first[20] - first[30]) < 0.1
    assert metrics["cells_reached"] >= 40 and metrics["wave_speed_cells_per_s"] > 0


def test_network_without_release_is_unchanged_by_astrocytes(tmp_path):
    """In the quick 1 s run no astrocyte reaches C_Theta, so Gamma_S stays 0, U_0 = U_0* and
    the network with astrocytes must spike exactly as the one without (same seed)."""
    metrics = get_experiment("astro-network").run(str(tmp_path), quick=True)
    with_astro, without = metrics["with_astrocytes"], metrics["without_astrocytes"]
    assert with_astro["gliotransmitter_releases"] == 0 and with_astro["mean_gamma_s_end"] == 0.0
    assert with_astro["exc_rate_hz"] == without["exc_rate_hz"] and with_astro["inh_rate_hz"] == without["inh_rate_hz"]
    assert 0.5 < without["exc_rate_hz"][0] < 50.0
    assert (tmp_path / "rates.png").stat().st_size > 1000


@pytest.fixture(scope="module")
def memory(tmp_path_factory):
    return quick_run(tmp_path_factory, "astro-memory")


def test_memory_pattern_is_read_out_only_with_astrocytes(memory):
    tmp_path, metrics = memory
    with_astro, without = metrics["with_astrocytes"], metrics["without_astrocytes"]
    assert with_astro == metrics["by_rule"]["release"]
    # only the stimulated units' astrocytes released, and their Gamma_S outlasts the delay
    assert with_astro["astrocytes_that_released"] == 20 and with_astro["gamma_s_at_readout_other"] == 0.0
    assert with_astro["gamma_s_at_readout_pattern"] > 0.3
    assert with_astro["readout_rate_pattern_hz"] > 1.3 * with_astro["readout_rate_other_hz"]
    assert with_astro["recall_fraction_correct"] >= 0.8 and without["recall_fraction_correct"] <= 0.7
    assert (tmp_path / "readout.png").stat().st_size > 1000


def test_memory_per_coupling_rule(memory):
    """The same input spikes for every rule: the units whose astrocytes never released answer
    exactly as without astrocytes; the slow Gamma_S rules ('release', 'excitability') hold the
    pattern over the delay, the transient SIC only raises the rate during the stimulus."""
    rules = memory[1]["by_rule"]
    control = rules["without_astrocytes"]
    for rule in ("release", "excitability", "sic"):
        assert rules[rule]["readout_rate_other_hz"] == control["readout_rate_other_hz"], rule
        assert rules[rule]["astrocytes_that_released"] == 20, rule
    assert rules["excitability"]["recall_fraction_correct"] >= 0.8
    assert rules["excitability"]["stimulus_rate_pattern_hz"] > 1.5 * control["stimulus_rate_pattern_hz"]
    assert rules["sic"]["stimulus_rate_pattern_hz"] > control["stimulus_rate_pattern_hz"] + 1.0
    assert abs(rules["sic"]["recall_fraction_correct"] - control["recall_fraction_correct"]) <= 0.1
