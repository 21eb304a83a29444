"""Encoders: sizes and resolutions as htm.core derives them, and the overlap properties."""
import datetime

import numpy as np
import pytest

from neurosim.models.htm.encoders import RDSE, DateEncoder, MultiEncoder, NupicRDSE, ScalarEncoder
from neurosim.models.htm.sdr import overlap


def test_scalar_parameters_like_htm_core():
    # Cui et al.'s passenger-count encoder: n = 109, w = 29 over [0, 40000]
    enc = ScalarEncoder(0, 40000, size=109, activeBits=29, clipInput=True)
    assert enc.n_buckets == 81 and enc.resolution == pytest.approx(500.0)
    assert enc.radius == pytest.approx(29 * 500.0) and enc.sparsity == pytest.approx(29 / 109)
    # radius / resolution give the size: bands = ceil(extent / resolution)
    enc = ScalarEncoder(0, 100, activeBits=10, radius=20)
    assert enc.resolution == 2.0 and enc.size == 51 + 9
    enc = ScalarEncoder(0, 100, sparsity=0.1, size=200)
    assert enc.activeBits == 20
    per = ScalarEncoder(0, 24, activeBits=21, radius=9.49, periodic=True)   # NAB time of day
    assert per.size == 54 and per.resolution == pytest.approx(9.49 / 21)
    for bad in (dict(size=10), dict(activeBits=3), dict(activeBits=3, size=10, radius=2),
                dict(activeBits=3, sparsity=0.1, size=10)):
        with pytest.raises(ValueError):
            ScalarEncoder(0, 1, **bad)
    with pytest.raises(ValueError):
        ScalarEncoder(0, 1, activeBits=3, size=10, periodic=True, clipInput=True)


def test_scalar_encoding_and_overlap():
    enc = ScalarEncoder(0, 100, size=111, activeBits=11)        # 101 buckets: resolution 1
    assert np.array_equal(enc.encode(0), np.arange(11))
    assert np.array_equal(enc.encode(100), np.arange(100, 111))  # maximum is inclusive
    x = enc.encode(40)
    assert len(x) == 11 and np.all(np.diff(x) == 1)
    for k in range(15):                                       # linear fall-off, zero beyond radius
        assert overlap(x, enc.encode(40 + k)) == max(11 - k, 0)
    assert len(enc.encode(float("nan"))) == 0
    with pytest.raises(ValueError):
        enc.encode(100.5)
    clip = ScalarEncoder(0, 100, size=111, activeBits=11, clipInput=True)
    assert np.array_equal(clip.encode(1e9), clip.encode(100))
    assert np.array_equal(clip.encode(-5), clip.encode(0))


def test_periodic_wraps():
    enc = ScalarEncoder(0, 24, size=48, activeBits=6, periodic=True)   # resolution 0.5 h
    late, early = enc.encode(23.5), enc.encode(0.5)
    assert overlap(late, early) == 4                          # 1 h apart across midnight
    assert overlap(enc.encode(0), enc.encode(12)) == 0
    assert all(len(enc.encode(t)) == 6 for t in np.arange(0, 24, 0.25))
    with pytest.raises(ValueError):
        enc.encode(24.0)


def test_category_bits_do_not_overlap():
    enc = ScalarEncoder(0, 3, activeBits=5, category=True)
    codes = [enc.encode(c) for c in range(4)]
    assert enc.size == 20
    assert all(overlap(codes[i], codes[j]) == 0 for i in range(4) for j in range(i + 1, 4))
    with pytest.raises(ValueError):
        enc.encode(1.5)


def test_rdse_overlap_properties():
    enc = RDSE(1000, activeBits=40, resolution=1.0, seed=7)
    assert enc.radius == 40.0 and enc.sparsity == 0.04
    codes = [enc.encode(v) for v in range(300)]
    assert all(38 <= len(c) <= 40 for c in codes)            # hash collisions are rare
    near = [overlap(codes[i], codes[i + 1]) for i in range(299)]
    assert min(near) >= 37 and np.mean(near) > 38.5          # neighbours share w - 1 draws
    k10 = [overlap(codes[i], codes[i + 10]) for i in range(290)]
    assert 28 <= np.mean(k10) <= 31                          # w - 10 shared draws
    far = [overlap(codes[i], codes[i + 100]) for i in range(200)]
    assert np.mean(far) < 4 and max(far) < 10                # chance level ~ w^2 / n = 1.6
    assert np.array_equal(enc.encode(5.2), enc.encode(5.9))  # same bucket
    assert np.array_equal(enc.encode(12.0), RDSE(1000, activeBits=40, resolution=1.0, seed=7).encode(12.0))
    assert overlap(enc.encode(12.0), RDSE(1000, activeBits=40, resolution=1.0, seed=8).encode(12.0)) < 10
    assert len(enc.encode(-1e6)) > 30                         # no range: any value encodes
    cat = RDSE(500, sparsity=0.05, category=True)
    assert cat.activeBits == 25 and cat.resolution == pytest.approx(1 / 25)
    assert overlap(cat.encode(1), cat.encode(2)) < 8
    with pytest.raises(ValueError):
        RDSE(100, activeBits=5)


def test_date_encoder():
    enc = DateEncoder(timeOfDay=(21, 9.49), weekend=21)
    assert enc.size == 54 + 42
    fri_5pm = datetime.datetime(2015, 1, 2, 17, 0)            # a Friday
    fri_7pm = datetime.datetime(2015, 1, 2, 19, 0)
    sat = datetime.datetime(2015, 1, 3, 12, 0)
    mon = datetime.datetime(2015, 1, 5, 12, 0)
    assert enc.values(fri_5pm)["weekend"] == 0 and enc.values(fri_7pm)["weekend"] == 1
    assert enc.values(sat)["weekend"] == 1 and enc.values(mon)["weekend"] == 0
    for t in (fri_5pm, sat, mon):
        assert len(enc.encode(t)) == 42
    tod = DateEncoder(timeOfDay=(21, 9.49))
    a, b = tod.encode(datetime.datetime(2015, 1, 1, 23, 30)), tod.encode(datetime.datetime(2015, 1, 2, 0, 30))
    assert overlap(a, b) >= 21 - 3                            # one hour apart across midnight
    assert overlap(tod.encode(datetime.datetime(2015, 1, 1, 0)), tod.encode(datetime.datetime(2015, 1, 1, 12))) == 0
    assert np.array_equal(tod.encode(np.datetime64("2015-01-01T23:30")), a)
    dow = DateEncoder(dayOfWeek=(7, 1))
    assert overlap(dow.encode(mon), dow.encode(datetime.datetime(2015, 1, 6, 12))) == 0
    assert overlap(dow.encode(mon), dow.encode(datetime.datetime(2015, 1, 5, 20))) > 0
    hol = DateEncoder(holiday=4)
    xmas = datetime.datetime(2014, 12, 25, 10)
    assert hol.values(xmas)["holiday"] == 1.0 and hol.values(mon)["holiday"] == 0.0
    assert hol.values(datetime.datetime(2014, 12, 24, 12))["holiday"] == pytest.approx(0.5)
    custom = DateEncoder(customDays=(5, ["Saturday", "sun"]))
    assert custom.values(sat)["customDays"] == 1 and custom.values(mon)["customDays"] == 0
    with pytest.raises(ValueError):
        DateEncoder()


def test_multi_encoder_concatenates():
    multi = MultiEncoder([("x", ScalarEncoder(0, 10, size=20, activeBits=5)),
                          ("t", ScalarEncoder(0, 7, size=14, activeBits=3, periodic=True))])
    bits = multi.encode({"x": 10, "t": 0})
    assert multi.size == 34 and len(bits) == 8
    assert np.array_equal(bits[:5], np.arange(15, 20)) and np.array_equal(bits[5:], 20 + np.arange(3))


def test_nupic_rdse():
    """NuPIC's RDSE: the cases of NuPIC's own ``random_distributed_scalar_test.py``
    (testEncoding, testMapBucketIndexToNonZeroBits, testOffset) and its overlap rules."""
    enc = NupicRDSE(1.0, w=23, n=500, offset=0.0)
    e0 = enc.encode(-0.1)
    assert len(e0) == 23 and enc.bucket(0.0) == 500 and len(enc.bucketMap) == 1
    e1 = enc.encode(1.0)
    assert len(enc.bucketMap) == 2 and len(e1) == 23 and overlap(e0, e1) == 22
    e25 = enc.encode(25.0)
    assert len(enc.bucketMap) > 23 and len(e25) == 23 and overlap(e0, e25) < 4
    assert np.array_equal(e0, enc.encode(-0.1)) and np.array_equal(e1, enc.encode(1.0))
    assert enc.bucket(0.5) == 501 and enc.bucket(-0.5) == 499        # Python 2 round(): half away from 0
    # every pair of buckets: exactly w - d shared bits within w, at most 2 beyond
    enc = NupicRDSE(1.0, w=11, n=150, seed=5)
    for v in range(-30, 31):
        enc.encode(float(v))
    keys = sorted(enc.bucketMap)
    assert len(keys) == 61
    for a in keys:
        for b in keys:
            d, o = abs(a - b), overlap(enc.bucketMap[a], enc.bucketMap[b])
            assert o == 11 - d if d < 11 else o <= 2
    # clipping to [0, maxBuckets - 1]
    small = NupicRDSE(1.0, w=11, n=150, maxBuckets=10)
    small.encode(0.0)
    assert small.bucket(-8) == 0 and small.bucket(23) == 9
    assert np.array_equal(small.encode(23.0), small.encode(6)) and np.array_equal(small.encode(-8), small.encode(-7))
    assert len(small.bucketMap) == 10
    # the first value is the offset unless one is given
    assert NupicRDSE(1.0).bucket(23.0) == 500 and NupicRDSE(1.0, offset=25.0).offset == 25.0
    with pytest.raises(ValueError):
        NupicRDSE(1.0, n=int(5.9 * 21))
    with pytest.raises(ValueError):
        NupicRDSE(1.0, w=-1)
    with pytest.raises(ValueError):
        NupicRDSE(-2)
