"""Small compiled helpers the generated kernels call.

The generated kernel source embeds a hash of this file, so changing it
invalidates cached kernels.
"""
import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, inline="always")
def uniform01(key, step, index):
    """Uniform number in [0, 1) from (key, step, index): a counter-based RNG.

    Stateless (splitmix64 of the counter), so results do not depend on the
    order of evaluation, the thread count or how a run is split into chunks.
    """
    z = np.uint64(key) ^ (np.uint64(step) * _GOLDEN + np.uint64(index) * _M2)
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True)
def bernoulli_set(key, step, n, p, out):
    """Write into ``out`` the sources (of n) that fire in this step, each independently
    with probability p; returns how many.

    Same distribution as n Bernoulli draws, at a cost proportional to the number
    that fire: their count is Binomial(n, p) (drawn by inversion), and given the
    count the set is uniform (distinct indices drawn with rejection).  Use when
    n * p is small (the caller checks).
    """
    q = 1.0 - p
    pk = q ** n
    u = uniform01(key, step, n)
    cdf = pk
    k = 0
    while u > cdf and k < n:
        pk *= (n - k) / (k + 1.0) * p / q
        cdf += pk
        k += 1
    count = 0
    attempt = 0
    while count < k:
        idx = int(uniform01(key, step, n + 1 + attempt) * n)
        attempt += 1
        fresh = True
        for c in range(count):
            if out[c] == idx:
                fresh = False
                break
        if fresh:
            out[count] = idx
            count += 1
    return count


@intrinsic
def prefetch(typingctx, array, index):
    """Hint the CPU to fetch ``array[index]`` into cache for writing (LLVM's prefetch
    intrinsic; no effect on results, never faults, so ``index`` needs no bounds check)."""
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        # as a byte pointer: the intrinsic is declared once per module, whatever array comes first
        address = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [address.type, i32, i32, i32]), "llvm.prefetch.p0")
        builder.call(fn, [address, i32(1), i32(3), i32(1)])    # write, keep in all cache levels, data
        return context.get_dummy_value()
    return sig, codegen
