"""Serial kernels saved as machine code and loaded without numba: the warm start.

Importing numba and filling its compiler registries takes about half a second, more than the
rest of a warm start together.  So after numba compiles a serial kernel, the object code its JIT
produced is saved in the neurosim cache next to the kernel source, with a manifest (``save``).
A later process loads that object with llvmlite's JIT linker (``load``) and calls the kernel
through a small generated trampoline; numba is then never imported.  Kernels with parallel loops
need numba's threading runtime and keep numba's own cache instead.

What makes this sound:
- The code is the code numba's JIT would run: the same object, linked the same way.
- The manifest is keyed by the machine (CPU name and features), the numba and llvmlite
  releases and every ``NUMBA_*`` setting, and carries the object's SHA-256.
- The kernel is entered through numba's native calling convention (a status code, a pointer to
  the return value, an exception slot, then each argument flattened: an array as meminfo,
  parent, size, itemsize, data, shape..., strides...).  ``save`` checks the compiled function's
  parameter list against that layout for the actual arguments and saves nothing if it differs.
- The object also holds numba's Python-facing wrapper, which refers to numba helpers that only a
  numba import provides.  Those few (listed in ``_WRAPPER_HELPERS``: boxing, releasing arrays,
  passing exceptions) are linked, inside this kernel's own JIT engine only, to stubs that abort:
  the kernel itself never reaches them (it allocates nothing, raises nothing, and is passed
  arrays without meminfo).  Every other symbol
  must be one the process exports (Python's C API, libc, libm), else nothing is saved or loaded.
  Nothing is added to LLVM's process-wide symbol table, so numba's own code is unaffected.
"""
import ctypes
import functools
import hashlib
import importlib.util
import json
import os
import sys

import numpy as np

from neurosim.cache import load_json, write_atomic

# numba helpers only its Python wrapper, array release or exception passing calls
_WRAPPER_HELPERS = frozenset({
    "NRT_adapt_ndarray_from_python", "NRT_adapt_ndarray_to_python_acqref", "NRT_MemInfo_call_dtor",
    "NRT_Free", "numba_gil_ensure", "numba_gil_release", "numba_unpickle", "numba_do_raise",
    "numba_runtime_build_excinfo_struct",
})
_SCALAR_IR = {"f4": "float", "f8": "double", "i8": "i64", "u8": "i64", "i4": "i32", "u4": "i32",
              "i2": "i16", "u2": "i16", "i1": "i8", "u1": "i8", "b1": "i8"}
_NOT_CODEGEN = ("NUMBA_CACHE_DIR", "NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER")   # settings the code does not depend on
_ENGINES = {}     # object path -> (engine, kernel address): one JIT link per process


def enabled():
    """False when ``NEUROSIM_NATIVE_KERNELS=0``: serial kernels then always go through numba."""
    return os.environ.get("NEUROSIM_NATIVE_KERNELS", "1") != "0"


def _llvm():
    import llvmlite.binding as llvm
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    return llvm


def _package_version_text(name):
    spec = importlib.util.find_spec(name)
    path = os.path.join(os.path.dirname(spec.origin), "_version.py")
    with open(path, "rb") as handle:
        return handle.read()


@functools.lru_cache(maxsize=1)
def machine_key():
    """A short hash of what the object code depends on besides its source (once per process)."""
    llvm = _llvm()
    digest = hashlib.sha256()
    for part in (llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten(), sys.version,
                 sorted((k, v) for k, v in os.environ.items()
                        if k.startswith("NUMBA_") and k not in _NOT_CODEGEN)):
        digest.update(repr(part).encode())
    for package in ("numba", "llvmlite"):
        digest.update(_package_version_text(package))
    return digest.hexdigest()[:12]


def _paths(kernel_path, layout):
    """Object and manifest of one specialisation: like numba's dispatcher, one per argument
    types (the same source can be called with, say, float32 or float64 parameter arrays)."""
    types = hashlib.sha256(json.dumps(layout).encode()).hexdigest()[:8]
    stem = f"{os.path.splitext(kernel_path)[0]}.{machine_key()}.{types}"
    return stem + ".o", stem + ".json"


def _layout(args):
    """Per argument: ('array', dtype, ndim) or ('scalar', dtype), and the IR parameter types
    numba's calling convention flattens it into."""
    layout, params = [], []
    for value in args:
        if isinstance(value, np.ndarray):
            layout.append(["array", value.dtype.str, value.ndim])
            params += ["ptr", "ptr", "i64", "i64", "ptr"] + ["i64"] * (2 * value.ndim)
        else:
            dtype = np.asarray(value).dtype
            layout.append(["scalar", dtype.str])
            params.append(_SCALAR_IR[dtype.str[1:]])
    return layout, params


def compile_and_save(dispatcher, args, kernel_path):
    """Compile the kernel for ``args`` as numba's dispatcher would (same flags), but without the
    Python and C wrappers nobody calls here (a third of the compile time), and save it.
    True if saved; else nothing is saved and the caller goes through the dispatcher."""
    import numba
    from numba.core import compiler
    from neurosim.heavy_imports import collector_paused
    if any(isinstance(a, np.ndarray) and not a.flags.c_contiguous for a in args):
        return False
    how = dispatcher._compiler          # what the dispatcher compiles with (numba's _FunctionCompiler)
    flags = compiler.Flags()
    how.targetdescr.options.parse_as_flags(flags, how.targetoptions)
    flags.no_cpython_wrapper = flags.no_cfunc_wrapper = True
    with collector_paused():
        cres = compiler.compile_extra(how.targetdescr.typing_context, how.targetdescr.target_context, how.py_func,
                                      args=tuple(numba.typeof(a) for a in args), return_type=None,
                                      flags=flags, locals=how.locals, pipeline_class=how.pipeline_class)
    return save(cres, args, kernel_path)


def save(cres, args, kernel_path):
    """Save the object code of numba's compile result ``cres`` for ``args``; True if saved."""
    library = cres.library
    try:
        obj = library._get_compiled_object()
    except (RuntimeError, ValueError):      # numba kept no object (e.g. it came from numba's own cache)
        return False
    symbol = cres.fndesc.mangled_name
    function = library.get_function(symbol)
    layout, params = _layout(args)
    found = [str(a.type) for a in function.arguments]
    n_return = len(cres.signature.return_type)
    if found != ["ptr", "ptr"] + params or not str(function.global_value_type).startswith("i32 (") \
            or str(cres.signature.return_type) != f"UniTuple(int64 x {n_return})":
        return False
    externals = sorted({g.name for g in list(library._final_module.functions) + list(library._final_module.global_variables)
                        if g.is_declaration and not g.name.startswith("llvm.")})
    if _unlinkable(_missing_symbols(externals)):
        return False
    object_path, manifest_path = _paths(kernel_path, layout)
    write_atomic(object_path, obj)
    write_atomic(manifest_path, json.dumps({
        "symbol": symbol, "params": params, "layout": layout, "externals": externals,
        "n_return": n_return, "sha256": hashlib.sha256(obj).hexdigest()}))
    return True


def load(kernel_path, args):
    """The kernel saved for this machine and these argument types as a NativeKernel, or None."""
    object_path, manifest_path = _paths(kernel_path, _layout(args)[0])
    manifest = load_json(manifest_path)
    if manifest is None:
        return None
    if object_path not in _ENGINES:
        try:
            with open(object_path, "rb") as handle:
                obj = handle.read()
        except OSError:
            return None
        if hashlib.sha256(obj).hexdigest() != manifest["sha256"]:
            return None
        linked = _link(obj, manifest)
        if linked is None:
            return None
        _ENGINES[object_path] = linked
    engine, address = _ENGINES[object_path]
    return NativeKernel(address, manifest)


def _missing_symbols(externals):
    """The external symbols the running process does not export (looked up with dlopen(NULL));
    all of them where there is no such handle (Windows), and then nothing is saved or loaded."""
    try:
        process = ctypes.CDLL(None)
    except (OSError, TypeError):
        return list(externals) or ["(no process symbol table)"]
    return [n for n in externals if not hasattr(process, n)]


def _unlinkable(missing):
    """Of the missing symbols, those no stub may stand in for."""
    return [n for n in missing if n not in _WRAPPER_HELPERS]


def _stubs_ir(missing):
    """Definitions, local to the kernel's engine, of the missing wrapper-only helpers."""
    lines = ["declare void @abort()"]
    for name in missing:
        lines += [f'define void @"{name}"() {{', "  call void @abort()", "  unreachable", "}"]
    return "\n".join(lines)


def _trampoline_ir(symbol, params):
    """``i32 neurosim_enter(ptr ret, ptr exc, ptr slots)``: read each parameter of the kernel from
    a 64-bit slot (scalars as their bits, arrays as numba's flattened struct) and call it."""
    lines, call = [], []
    for i, ty in enumerate(params):
        lines.append(f"  %s{i} = getelementptr i64, ptr %slots, i64 {i}")
        lines.append(f"  %v{i} = load i64, ptr %s{i}")
        if ty == "ptr":
            lines.append(f"  %a{i} = inttoptr i64 %v{i} to ptr")
        elif ty == "double":
            lines.append(f"  %a{i} = bitcast i64 %v{i} to double")
        elif ty == "float":
            lines.append(f"  %w{i} = trunc i64 %v{i} to i32")
            lines.append(f"  %a{i} = bitcast i32 %w{i} to float")
        elif ty != "i64":
            lines.append(f"  %a{i} = trunc i64 %v{i} to {ty}")
        call.append(f"{ty} %{'v' if ty == 'i64' else 'a'}{i}")
    return "\n".join([
        f'declare i32 @"{symbol}"(ptr, ptr, {", ".join(params)})',
        "define i32 @neurosim_enter(ptr %ret, ptr %exc, ptr %slots) {",
        *lines,
        f'  %r = call i32 @"{symbol}"(ptr %ret, ptr %exc, {", ".join(call)})',
        "  ret i32 %r", "}", ""])


def _link(obj, manifest):
    """JIT-link the object with the trampoline and stubs in an engine of its own; None if the
    process lacks a symbol it needs (LLVM would abort the process on an unresolved one)."""
    missing = _missing_symbols(manifest["externals"])
    if _unlinkable(missing):
        return None
    llvm = _llvm()
    target = llvm.Target.from_default_triple().create_target_machine(opt=2)
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), target)
    engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
    module = llvm.parse_assembly(_trampoline_ir(manifest["symbol"], manifest["params"]) + _stubs_ir(missing))
    module.verify()
    engine.add_module(module)
    engine.finalize_object()
    return engine, engine.get_function_address("neurosim_enter")


_ENTER = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


class ArgumentMismatch(TypeError):
    """Arguments of other types than a saved specialisation was compiled for (checked before it runs)."""


class NativeKernel:
    """Callable like the numba kernel: ``kernel(step0, n_steps, dt, spike_cap, *arrays)`` returns
    its tuple of integers.  Each instance has its own argument slots (one per simulation)."""

    def __init__(self, address, manifest):
        self._enter = _ENTER(address)
        self._layout = manifest["layout"]
        self._slots = np.zeros(len(manifest["params"]), dtype=np.int64)
        self._ret = np.zeros(manifest["n_return"], dtype=np.int64)
        self._exc = np.zeros(1, dtype=np.int64)
        self._held = [object()] * len(self._layout)     # the argument each slot holds now
        # a scalar goes into its slot as the integer with the same bits (the trampoline truncates)
        self._bits = [(np.dtype(k[1]), np.dtype(f"i{np.dtype(k[1]).itemsize}")) if k[0] == "scalar" else None
                      for k in self._layout]
        self._offset = []
        position = 0
        for kind in self._layout:
            self._offset.append(position)
            position += 5 + 2 * kind[2] if kind[0] == "array" else 1
        self._pointers = (self._ret.ctypes.data, self._exc.ctypes.data, self._slots.ctypes.data)

    def _put(self, i, value):
        kind, o = self._layout[i], self._offset[i]
        if kind[0] == "scalar":
            if isinstance(value, np.ndarray) and value.ndim:
                raise ArgumentMismatch(f"saved kernel argument {i}: expected a {kind[1]} scalar, got an array")
            dtype, bits = self._bits[i]
            self._slots[o] = np.asarray(value, dtype=dtype).view(bits)
        else:
            _, dtype, ndim = kind
            if not isinstance(value, np.ndarray) or value.dtype.str != dtype or value.ndim != ndim \
                    or not value.flags.c_contiguous:
                raise ArgumentMismatch(f"saved kernel argument {i}: expected a C-contiguous {ndim}-d {dtype} array, "
                                f"got {type(value).__name__} {getattr(value, 'dtype', '')}")
            self._slots[o:o + 5] = (0, 0, value.size, value.itemsize, value.ctypes.data)
            self._slots[o + 5:o + 5 + 2 * ndim] = value.shape + value.strides
        self._held[i] = value       # keeps the array alive while its address is in the slots

    def __call__(self, *args):
        if len(args) != len(self._layout):
            raise ArgumentMismatch(f"saved kernel takes {len(self._layout)} arguments ({len(args)} given)")
        held = self._held
        for i, value in enumerate(args):
            if value is not held[i]:        # parameters and state arrays are the same objects each call
                self._put(i, value)
        status = self._enter(*self._pointers)
        if status != 0:
            raise RuntimeError(f"the saved kernel reported an error (status {status}); rerun with "
                               "NEUROSIM_NATIVE_KERNELS=0 for numba's message")
        return tuple(int(x) for x in self._ret)


class SerialKernel:
    """A serial kernel called like numba's dispatcher: per argument types, the saved code if there
    is some for this machine, else numba compiles it (without its wrappers), saves it and this
    process runs the saved code too.  If it cannot be saved, numba's dispatcher runs it.

    ``dispatcher``: a function returning numba's dispatcher, called only when something must be
    compiled (it imports numba)."""

    def __init__(self, kernel_path, dispatcher):
        self._path, self._dispatcher = kernel_path, dispatcher
        self._current = None
        self._by_layout = {}

    def __call__(self, *args):
        if self._current is not None:
            try:
                return self._current(*args)
            except ArgumentMismatch:        # other argument types than the current specialisation
                pass
        self._current = self._specialise(args)
        return self._current(*args)

    def _specialise(self, args):
        key = json.dumps(_layout(args)[0])
        if key not in self._by_layout:
            kernel = load(self._path, args)
            if kernel is None:
                dispatcher = self._dispatcher()
                kernel = (compile_and_save(dispatcher, args, self._path) and load(self._path, args)) or dispatcher
            self._by_layout[key] = kernel
        return self._by_layout[key]
