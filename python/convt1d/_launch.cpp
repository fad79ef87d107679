// The eager call into libconvt1d from C++: a PyTorch extension that looks up an already validated call
// signature, picks the fp32 math mode, device and stream, allocates the output and calls
// convt1d_forward.
//
// Why: from Python the same steps (the signature lookup, the cuDNN TF32 switch, the current device and
// stream, torch.empty_like, four data_ptr() calls, a ctypes call that converts six arguments) cost
// ~5 us per call on the H100 host; here they are one pybind11 call, which also makes the eager path's
// own checks (exact tensor types, int parameters, gradients, tracing, torch.func transforms, forward
// AD; ~0.5 us as Python bytecode).
// Validation stays in Python (ops._check, where every message is written): `call` answers None for
// anything but a plain eager call of a signature it has been told about, and ops.py then decides,
// validates and `remember`s it. The library entry points come from the
// libconvt1d that ctypes loaded (bind), so both paths run one copy of the library. Built by
// scripts/build_torch_ext.py for the torch it is compiled against.
//
// `module_call` does the same for a call of a convt1d.nn.ConvTranspose1d module (frozen ones too, once
// frozen.py has packed their weights for the call's layout). Why: in Python,
// nn.Module's hook checks and forward's attribute reads (each self.name a lookup behind bytecode) cost
// ~1.5-2 us on top of `call`, which put the module past its budget of 5 us over the bare C ABI call
// (+5.2 us on the H100 host, the functional +3.3); here they are a few dict lookups. It answers
// None wherever nn.Module.__call__ would do more than call forward or the module holds anything but
// what torch's constructor leaves there; convt1d.nn then takes its Python path, unchanged.
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include <ATen/Context.h>
#include <ATen/core/Tensor.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <torch/csrc/Exceptions.h>
#include <torch/csrc/autograd/forward_grad.h>
#include <torch/csrc/autograd/python_variable.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/utils/pybind.h>
#include <torch/version.h>

#include "convt1d/convt1d.h"

namespace {

using ForwardFn = convt1d_status (*)(const convt1d_problem*, const void*, const void*, const void*, void*,
                                     CUstream_st*);
using ForwardPackedFn = convt1d_status (*)(const convt1d_problem*, const void*, const void*, const void*,
                                           const convt1d_packed_layout*, const void*, void*, CUstream_st*);
using PackedLayoutFn = convt1d_status (*)(const convt1d_problem*, convt1d_packed_layout*);
using LastErrorFn = const char* (*)();
using StatusStringFn = const char* (*)(convt1d_status);

ForwardFn g_forward = nullptr;
ForwardPackedFn g_forward_packed = nullptr;
PackedLayoutFn g_packed_layout = nullptr;
LastErrorFn g_last_error = nullptr;
StatusStringFn g_status_string = nullptr;

void bind(std::uintptr_t forward, std::uintptr_t forward_packed, std::uintptr_t packed_layout,
          std::uintptr_t last_error, std::uintptr_t status_string) {
  g_forward = reinterpret_cast<ForwardFn>(forward);
  g_forward_packed = reinterpret_cast<ForwardPackedFn>(forward_packed);
  g_packed_layout = reinterpret_cast<PackedLayoutFn>(packed_layout);
  g_last_error = reinterpret_cast<LastErrorFn>(last_error);
  g_status_string = reinterpret_cast<StatusStringFn>(status_string);
}

// What ops._check reads of a call with 3-D (or unbatched 2-D) x, 3-D weight and no or 1-D bias: shapes,
// dtypes, devices (type and index) and the five int parameters. Strides are not part of it: inputs are
// made contiguous here.
struct Key {
  std::array<int64_t, 7> sizes;   // x (3; unbatched: -1, C_in, L), weight (3), bias length (-1: no bias)
  std::array<int32_t, 3> dtypes;  // x, weight, bias (-1)
  std::array<int32_t, 3> devices;  // (type << 8) | (index + 1), bias -1
  std::array<int64_t, 5> params;  // stride, padding, output_padding, groups, dilation
  bool operator==(const Key& o) const {
    return sizes == o.sizes && dtypes == o.dtypes && devices == o.devices && params == o.params;
  }
};

struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = 0;
    auto mix = [&h](int64_t v) { h ^= std::hash<int64_t>{}(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
    for (int64_t v : k.sizes) mix(v);
    for (int32_t v : k.dtypes) mix(v);
    for (int32_t v : k.devices) mix(v);
    for (int64_t v : k.params) mix(v);
    return h;
  }
};

// A remembered signature: the library's problem per math mode (indexed by convt1d_math), the output
// length, and per math mode the packed-weight layout once a frozen module asked for it.
struct Known {
  std::array<convt1d_problem, 2> problems;
  int64_t out_length;
  std::array<convt1d_packed_layout, 2> layouts{};
  std::array<bool, 2> layout_known{};
};

// The bound only protects against unbounded shape churn (as ops._SIGNATURES_LIMIT).
constexpr size_t kKnownLimit = 4096;
std::unordered_map<Key, Known, KeyHash> g_known;  // used under the GIL only

int32_t device_code(const at::Tensor& t) {
  const c10::Device d = t.device();
  return (static_cast<int32_t>(d.type()) << 8) | (static_cast<int32_t>(d.index()) + 1);
}

std::optional<Key> make_key(const at::Tensor& x, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
                            const std::array<int64_t, 5>& params) {
  const int64_t x_dims = x.dim();
  if ((x_dims != 3 && x_dims != 2) || weight.dim() != 3 || (bias.has_value() && bias->dim() != 1)) return std::nullopt;
  Key k;
  for (int i = 0; i < 3; ++i) {
    k.sizes[i] = x_dims == 3 ? x.size(i) : (i == 0 ? -1 : x.size(i - 1));
    k.sizes[3 + i] = weight.size(i);
  }
  k.sizes[6] = bias.has_value() ? bias->size(0) : -1;
  k.dtypes = {static_cast<int32_t>(x.scalar_type()), static_cast<int32_t>(weight.scalar_type()),
              bias.has_value() ? static_cast<int32_t>(bias->scalar_type()) : -1};
  k.devices = {device_code(x), device_code(weight), bias.has_value() ? device_code(*bias) : -1};
  k.params = params;
  return k;
}

// TF32 or IEEE for fp32 on CUDA, by the rule of ops._cuda_fp32_math: the cuDNN convolution precision
// when it says tf32 or ieee, else the legacy allow_tf32 switch; IEEE where torch refuses to read that
// (the new and legacy APIs were mixed).
int32_t cuda_fp32_math() {
  at::Context& context = at::globalContext();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 9)
  const at::Float32Precision precision = context.float32Precision(at::Float32Backend::CUDA, at::Float32Op::CONV);
  if (precision == at::Float32Precision::TF32) return CONVT1D_MATH_TF32;
  if (precision == at::Float32Precision::IEEE) return CONVT1D_MATH_IEEE;
#endif
  try {
    return context.allowTF32CuDNN() ? CONVT1D_MATH_TF32 : CONVT1D_MATH_IEEE;
  } catch (const std::exception&) {
    return CONVT1D_MATH_IEEE;
  }
}

// Weights packed ahead (convt1d_pack_weight) for a convt1d_forward_packed call.
struct Packed {
  const void* data;
  convt1d_packed_layout layout;
};

// The library call: contiguous inputs, the output allocated like x, the status turned into an error.
// With `packed`, convt1d_forward_packed reads those weights.
at::Tensor run(const convt1d_problem& problem, const at::Tensor& x, const at::Tensor& weight,
               const std::optional<at::Tensor>& bias, int64_t out_length, CUstream_st* stream,
               const Packed* packed = nullptr) {
  if (g_forward == nullptr) throw std::runtime_error("convt1d: the C++ launcher was used before bind()");
  const at::Tensor xc = x.contiguous();
  const at::Tensor wc = weight.contiguous();
  at::Tensor y = at::empty({problem.batch, problem.out_channels, out_length}, x.options());
  if (problem.batch == 0) return y;
  at::Tensor bc;
  if (bias.has_value()) bc = bias->contiguous();
  const void* bias_ptr = bias.has_value() ? bc.data_ptr() : nullptr;
  convt1d_status status;
  if (problem.device == CONVT1D_DEVICE_CPU) {
    // The CPU backend computes for as long as the problem takes: other Python threads may run meanwhile.
    pybind11::gil_scoped_release unlocked;
    status = g_forward(&problem, xc.data_ptr(), wc.data_ptr(), bias_ptr, y.data_ptr(), nullptr);
  } else if (packed != nullptr) {
    status = g_forward_packed(&problem, xc.data_ptr(), wc.data_ptr(), packed->data, &packed->layout, bias_ptr,
                              y.data_ptr(), stream);
  } else {
    status = g_forward(&problem, xc.data_ptr(), wc.data_ptr(), bias_ptr, y.data_ptr(), stream);
  }
  if (status != CONVT1D_OK) {
    std::string message = g_last_error();
    if (message.empty())
      message = "convt1d: call failed with status " + std::to_string(static_cast<int>(status)) + " (" +
                g_status_string(status) + ")";
    throw std::runtime_error(message);
  }
  return y;
}

// An int parameter as the eager path takes it: a Python int (not bool, not int-like), in range.
bool exact_int(pybind11::handle h, int64_t& value) {
  if (h.ptr() == nullptr || !PyLong_CheckExact(h.ptr())) return false;
  int overflow = 0;
  value = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
  if (overflow != 0 || (value == -1 && PyErr_Occurred())) {
    PyErr_Clear();
    return false;
  }
  return true;
}

// The attribute names of frozen.py's PackedWeights that frozen_buffer reads, interned once.
struct FrozenKeys {
  PyObject* weight;
  PyObject* version;
  PyObject* pointer;
  PyObject* current;
  PyObject* buffers;
};
FrozenKeys g_frozen;

// A frozen module's packed weights for `layout` (frozen.py's PackedWeights `state`), where they were
// packed from `weight` as it is now: the same Parameter, storage and version. nullopt where Python
// must look (first call of a layout, a changed weight, anything unexpected).
std::optional<Packed> frozen_buffer(PyObject* state, PyObject* weight_obj, const at::Tensor& weight,
                                    const convt1d_packed_layout& layout) {
  auto attr = [state](PyObject* name) {
    auto value = pybind11::reinterpret_steal<pybind11::object>(PyObject_GetAttr(state, name));
    if (!value) PyErr_Clear();
    return value;
  };
  const pybind11::object held = attr(g_frozen.weight), version = attr(g_frozen.version),
                         pointer = attr(g_frozen.pointer), current = attr(g_frozen.current),
                         buffers = attr(g_frozen.buffers);
  if (held.ptr() != weight_obj || !version || !pointer || !current || !buffers || !PyLong_CheckExact(version.ptr()) ||
      !PyLong_CheckExact(pointer.ptr()) || !PyAnySet_Check(current.ptr()) || !PyDict_Check(buffers.ptr()))
    return std::nullopt;
  if (PyLong_AsLongLong(version.ptr()) != weight._version() ||
      PyLong_AsVoidPtr(pointer.ptr()) != weight.data_ptr() || PyErr_Occurred()) {
    PyErr_Clear();
    return std::nullopt;
  }
  const auto id = pybind11::reinterpret_steal<pybind11::object>(PyLong_FromUnsignedLongLong(layout.id));
  if (!id || PySet_Contains(current.ptr(), id.ptr()) != 1) {
    PyErr_Clear();
    return std::nullopt;
  }
  PyObject* buffer = PyDict_GetItemWithError(buffers.ptr(), id.ptr());  // (borrowed; `buffers` holds it)
  if (buffer == nullptr || !THPVariable_CheckExact(buffer)) {
    PyErr_Clear();
    return std::nullopt;
  }
  const at::Tensor& packed = THPVariable_Unpack(buffer);
  if (packed.nbytes() != layout.bytes) return std::nullopt;
  return Packed{packed.data_ptr(), layout};
}

// The remembered-signature call that `call` and `module_call` share, once each has its tensors and five
// ints: the output, or None where Python must look itself. None unless x, weight and bias (None: no
// bias) are plain tensors (torch.Tensor or Parameter: subclasses such as FakeTensor have no real
// memory), no input needs a gradient where grad mode is on, no TorchScript trace is recording, no
// torch.func transform or forward-AD level is active, and the signature was remembered. With `frozen`
// (a frozen module's PackedWeights), an fp32 CUDA call whose plan reads packed weights reads that
// module's, or answers None while they are not packed for the weight as it is (frozen.py packs them).
pybind11::object call_known(PyObject* x_obj, PyObject* weight_obj, PyObject* bias_obj,
                            const std::array<int64_t, 5>& params, PyObject* frozen = nullptr) {
  const bool has_bias = bias_obj != Py_None;
  if (!THPVariable_CheckExact(x_obj) || !THPVariable_CheckExact(weight_obj) ||
      (has_bias && !THPVariable_CheckExact(bias_obj)))
    return pybind11::none();
  const at::Tensor& x = THPVariable_Unpack(x_obj);
  const at::Tensor& weight = THPVariable_Unpack(weight_obj);
  std::optional<at::Tensor> bias;
  if (has_bias) bias = THPVariable_Unpack(bias_obj);
  if (at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad() || (has_bias && bias->requires_grad())))
    return pybind11::none();
  if (torch::jit::tracer::isTracing()) return pybind11::none();
  // Under torch.func transforms (vmap, grad, jvp) the op must meet the transform: its tensors may be
  // wrappers without memory of their own. (functorch includes its front-mode key while any is active.)
  // Inside a forward-AD dual level (torch.autograd.forward_ad; eager has one, index 0) an input may
  // carry a tangent that only the autograd.Function's jvp propagates.
  if (c10::impl::tls_is_dispatch_key_included(c10::DispatchKey::FuncTorchDynamicLayerFrontMode) ||
      torch::autograd::ForwardADLevel::try_get_by_idx(0) != nullptr)
    return pybind11::none();
  const std::optional<Key> key = make_key(x, weight, bias, params);
  if (!key) return pybind11::none();
  const auto it = g_known.find(*key);
  if (it == g_known.end()) return pybind11::none();
  // Copied: run() releases the GIL for CPU problems, and with it this table to other threads. (The
  // CUDA branch keeps the GIL: `entry` stays valid there.)
  Known& entry = it->second;
  const Known known = entry;
  const convt1d_problem& ieee = known.problems[CONVT1D_MATH_IEEE];
  const bool unbatched = x.dim() == 2;  // its problem has batch 1
  const at::Tensor x3 = unbatched ? x.unsqueeze(0) : x;
  at::Tensor y;
  if (ieee.device == CONVT1D_DEVICE_CPU) {
    y = run(ieee, x3, weight, bias, known.out_length, nullptr);
  } else {
    const int32_t math = ieee.dtype == CONVT1D_FLOAT32 ? cuda_fp32_math() : CONVT1D_MATH_IEEE;
    // The library runs on the calling thread's current device and the device's current stream.
    const c10::DeviceGuard guard(x.device());
    const c10::impl::VirtualGuardImpl cuda(c10::DeviceType::CUDA);
    auto* stream = static_cast<CUstream_st*>(cuda.getStream(x.device()).native_handle());
    std::optional<Packed> packed;
    if (frozen != nullptr && ieee.dtype == CONVT1D_FLOAT32) {
      if (!entry.layout_known[math]) {
        if (g_packed_layout(&known.problems[math], &entry.layouts[math]) != CONVT1D_OK) return pybind11::none();
        entry.layout_known[math] = true;
      }
      const convt1d_packed_layout& layout = entry.layouts[math];
      // (A weight made under torch.inference_mode has no version counter to watch: it runs unpacked.)
      if (layout.bytes > 0 && !weight.is_inference()) {
        packed = frozen_buffer(frozen, weight_obj, weight, layout);
        if (!packed) return pybind11::none();  // frozen.py packs, then later calls find the buffer here
      }
    }
    y = run(known.problems[math], x3, weight, bias, known.out_length, stream, packed ? &*packed : nullptr);
  }
  if (unbatched) y = y.squeeze(0);
  return pybind11::reinterpret_steal<pybind11::object>(THPVariable_Wrap(std::move(y)));
}

// The eager call of ops.conv_transpose1d, tried first: call_known's answer, or None where a parameter
// is not a Python int (not bool, not int-like: those take the checked path).
pybind11::object call(pybind11::handle x, pybind11::handle weight, pybind11::handle bias, pybind11::handle stride,
                      pybind11::handle padding, pybind11::handle output_padding, pybind11::handle groups,
                      pybind11::handle dilation) {
  std::array<int64_t, 5> params;
  const std::array<pybind11::handle, 5> param_objs = {stride, padding, output_padding, groups, dilation};
  for (size_t i = 0; i < params.size(); ++i)
    if (!exact_int(param_objs[i], params[i])) return pybind11::none();
  return call_known(x.ptr(), weight.ptr(), bias.ptr(), params);
}

// What module_call reads of nn.Module's state: the class it stands in for (convt1d.nn.ConvTranspose1d)
// and that class's forward, and torch's four global hook registries (dicts torch mutates in place), all
// held for the life of the process; and the attribute names, interned once so that a lookup hashes
// nothing.
struct ModuleGlobals {
  PyTypeObject* type = nullptr;
  PyObject* forward = nullptr;
  std::array<PyObject*, 4> global_hooks{};
};
ModuleGlobals g_module;

struct ModuleKeys {
  PyObject* forward;
  PyObject* compiled_call_impl;
  std::array<PyObject*, 4> hooks;  // the instance's forward pre-, forward, backward pre- and backward hooks
  PyObject* padding_mode;
  PyObject* packed;
  PyObject* parameters;
  PyObject* weight;
  PyObject* bias;
  PyObject* stride;
  PyObject* padding;
  PyObject* output_padding;
  PyObject* groups;
  PyObject* dilation;
};
ModuleKeys g_keys;

void intern_module_keys() {
  auto intern = [](const char* name) {
    PyObject* key = PyUnicode_InternFromString(name);
    if (key == nullptr) throw pybind11::error_already_set();
    return key;
  };
  g_keys.forward = intern("forward");
  g_keys.compiled_call_impl = intern("_compiled_call_impl");
  g_keys.hooks = {intern("_forward_pre_hooks"), intern("_forward_hooks"), intern("_backward_pre_hooks"),
                  intern("_backward_hooks")};
  g_keys.padding_mode = intern("padding_mode");
  g_keys.packed = intern("_convt1d_packed");
  g_frozen = {intern("weight"), intern("version"), intern("pointer"), intern("current"), intern("buffers")};
  g_keys.parameters = intern("_parameters");
  g_keys.weight = intern("weight");
  g_keys.bias = intern("bias");
  g_keys.stride = intern("stride");
  g_keys.padding = intern("padding");
  g_keys.output_padding = intern("output_padding");
  g_keys.groups = intern("groups");
  g_keys.dilation = intern("dilation");
}

// Called once by nn.py: its module class and nn.Module's global forward pre-, forward, backward pre- and
// backward hook registries.
void bind_module_globals(pybind11::type module_type, pybind11::dict forward_pre_hooks, pybind11::dict forward_hooks,
                         pybind11::dict backward_pre_hooks, pybind11::dict backward_hooks) {
  auto* type = reinterpret_cast<PyTypeObject*>(module_type.ptr());
  PyObject* forward = PyDict_GetItemWithError(type->tp_dict, g_keys.forward);
  if (forward == nullptr) {
    if (PyErr_Occurred()) throw pybind11::error_already_set();
    throw std::invalid_argument("convt1d: bind_module_globals() takes a class that defines forward");
  }
  g_module.type = reinterpret_cast<PyTypeObject*>(module_type.inc_ref().ptr());
  g_module.forward = pybind11::handle(forward).inc_ref().ptr();
  g_module.global_hooks = {forward_pre_hooks.inc_ref().ptr(), forward_hooks.inc_ref().ptr(),
                           backward_pre_hooks.inc_ref().ptr(), backward_hooks.inc_ref().ptr()};
}

// dict[key] (borrowed), or nullptr where it is missing or the lookup raised (the error is dropped: the
// Python path meets the same state and reports it).
PyObject* lookup(PyObject* dict, PyObject* key) {
  PyObject* value = PyDict_GetItemWithError(dict, key);
  if (value == nullptr) PyErr_Clear();
  return value;
}

bool empty_dict(PyObject* obj) { return obj != nullptr && PyDict_Check(obj) && PyDict_GET_SIZE(obj) == 0; }

// A conv parameter as torch's constructor stores it: a 1-tuple holding a Python int.
bool single_int(PyObject* obj, int64_t& value) {
  return obj != nullptr && PyTuple_CheckExact(obj) && PyTuple_GET_SIZE(obj) == 1 &&
         exact_int(PyTuple_GET_ITEM(obj, 0), value);
}

// module(x) for convt1d.nn.ConvTranspose1d, as its __call__ and forward compute it, read from the
// instance __dict__: call_known's answer, or None unless nn.Module.__call__ would hand the call to
// forward unchanged (no instance or global hooks, no module.compile(); call_known sees to tracing), the
// module is exactly of the bound class and nobody replaced its forward, and it holds what torch's
// constructor leaves: padding_mode 'zeros', a registered weight and bias (None: no bias), stride,
// padding, output_padding and dilation as 1-tuples of ints, groups an int.
pybind11::object module_call(PyObject* module, PyObject* x) {
  if (g_module.type == nullptr || Py_TYPE(module) != g_module.type) return pybind11::none();
  for (PyObject* hooks : g_module.global_hooks)
    if (PyDict_GET_SIZE(hooks) != 0) return pybind11::none();
  if (lookup(g_module.type->tp_dict, g_keys.forward) != g_module.forward) return pybind11::none();
  const auto dict_ref = pybind11::reinterpret_steal<pybind11::object>(PyObject_GenericGetDict(module, nullptr));
  if (!dict_ref) {
    PyErr_Clear();
    return pybind11::none();
  }
  PyObject* const dict = dict_ref.ptr();
  for (PyObject* key : g_keys.hooks)
    if (!empty_dict(lookup(dict, key))) return pybind11::none();
  if (lookup(dict, g_keys.forward) != nullptr) return pybind11::none();  // an instance's own forward
  PyObject* const frozen = lookup(dict, g_keys.packed);  // frozen weights (nn.py's freeze_weight)
  PyObject* const compiled = lookup(dict, g_keys.compiled_call_impl);  // missing: nn.Module's default, None
  if (compiled != nullptr && compiled != Py_None) return pybind11::none();
  PyObject* const padding_mode = lookup(dict, g_keys.padding_mode);
  if (padding_mode == nullptr || !PyUnicode_CheckExact(padding_mode) ||
      PyUnicode_CompareWithASCIIString(padding_mode, "zeros") != 0)
    return pybind11::none();
  PyObject* const parameters = lookup(dict, g_keys.parameters);
  if (parameters == nullptr || !PyDict_Check(parameters)) return pybind11::none();
  PyObject* const weight = lookup(parameters, g_keys.weight);
  PyObject* const bias = lookup(parameters, g_keys.bias);
  if (weight == nullptr || weight == Py_None || bias == nullptr) return pybind11::none();
  std::array<int64_t, 5> params;  // stride, padding, output_padding, groups, dilation
  if (!single_int(lookup(dict, g_keys.stride), params[0]) ||
      !single_int(lookup(dict, g_keys.padding), params[1]) ||
      !single_int(lookup(dict, g_keys.output_padding), params[2]) ||
      !exact_int(lookup(dict, g_keys.groups), params[3]) ||
      !single_int(lookup(dict, g_keys.dilation), params[4]))
    return pybind11::none();
  // Held: a CPU call releases the GIL, and another thread may meanwhile replace the module's parameters.
  const auto weight_ref = pybind11::reinterpret_borrow<pybind11::object>(weight);
  const auto bias_ref = pybind11::reinterpret_borrow<pybind11::object>(bias);
  const auto frozen_ref = pybind11::reinterpret_borrow<pybind11::object>(frozen);
  return call_known(x, weight_ref.ptr(), bias_ref.ptr(), params, frozen_ref.ptr());
}

// module_call as a METH_FASTCALL function: pybind11's argument dispatch would add ~0.3 us per call (on
// the CPU host), as much as all of module_call's attribute reads. C++ errors become Python errors by
// torch's translation, as in the functions pybind11 wraps.
PyObject* module_call_fastcall(PyObject* /*self*/, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_Format(PyExc_TypeError, "module_call() takes 2 arguments (module, input), got %zd", nargs);
    return nullptr;
  }
  try {
    return module_call(args[0], args[1]).release().ptr();
  } catch (pybind11::error_already_set& e) {
    e.restore();
  } catch (...) {
    torch::translate_exception_to_python(std::current_exception());
  }
  return nullptr;
}

PyMethodDef g_module_call_def = {
    "module_call", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&module_call_fastcall)), METH_FASTCALL,
    "module_call(module, input): the output of a convt1d.nn.ConvTranspose1d call, or None (see _launch.cpp)"};

// Called by ops.py once it has validated a signature: the problems (ops._Signature.problems, copied)
// and the output length.
void remember(const at::Tensor& x, const at::Tensor& weight, const std::optional<at::Tensor>& bias, int64_t stride,
              int64_t padding, int64_t output_padding, int64_t groups, int64_t dilation,
              std::uintptr_t problem_tf32, std::uintptr_t problem_ieee, int64_t out_length) {
  const std::optional<Key> key = make_key(x, weight, bias, {stride, padding, output_padding, groups, dilation});
  if (!key) throw std::invalid_argument("convt1d: remember() takes 2-D or 3-D x, 3-D weight and a 1-D bias");
  if (g_known.size() >= kKnownLimit) g_known.clear();
  Known known;
  std::memcpy(&known.problems[CONVT1D_MATH_TF32], reinterpret_cast<const void*>(problem_tf32), sizeof(convt1d_problem));
  std::memcpy(&known.problems[CONVT1D_MATH_IEEE], reinterpret_cast<const void*>(problem_ieee), sizeof(convt1d_problem));
  known.out_length = out_length;
  g_known[*key] = known;
}

// One call for a problem ops.py holds (the custom op's kernel, unbatched inputs): problem is the address
// of a convt1d_problem, stream the raw cudaStream_t (0 on the CPU); the caller has set the device.
at::Tensor launch(std::uintptr_t problem, const at::Tensor& x, const at::Tensor& weight,
                  const std::optional<at::Tensor>& bias, int64_t out_length, std::uintptr_t stream) {
  return run(*reinterpret_cast<const convt1d_problem*>(problem), x, weight, bias, out_length,
             reinterpret_cast<CUstream_st*>(stream));
}

// launch with weights packed ahead: `packed` their device address, `layout_bytes` and `layout_id` the
// convt1d_packed_layout they were packed in (nn.py's frozen weights).
at::Tensor launch_packed(std::uintptr_t problem, const at::Tensor& x, const at::Tensor& weight,
                         const std::optional<at::Tensor>& bias, int64_t out_length, std::uintptr_t stream,
                         std::uintptr_t packed, std::uint64_t layout_bytes, std::uint64_t layout_id) {
  const Packed p{reinterpret_cast<const void*>(packed), convt1d_packed_layout{layout_bytes, layout_id}};
  return run(*reinterpret_cast<const convt1d_problem*>(problem), x, weight, bias, out_length,
             reinterpret_cast<CUstream_st*>(stream), &p);
}

size_t known_count() { return g_known.size(); }
void forget() { g_known.clear(); }

}  // namespace

PYBIND11_MODULE(_convt1d_launch, m) {
  m.doc() = "convt1d's eager launcher (see python/convt1d/_launch.cpp)";
  m.attr("torch_version") = CONVT1D_TORCH_VERSION;
  m.def("bind", &bind);
  m.def("call", &call);
  intern_module_keys();
  m.def("bind_module_globals", &bind_module_globals);
  auto module_call_fn = pybind11::reinterpret_steal<pybind11::object>(
      PyCFunction_NewEx(&g_module_call_def, nullptr, m.attr("__name__").ptr()));
  if (!module_call_fn) throw pybind11::error_already_set();
  m.add_object("module_call", module_call_fn);
  m.def("remember", &remember);
  m.def("launch", &launch);
  m.def("launch_packed", &launch_packed);
  m.def("cuda_fp32_math", &cuda_fp32_math);
  m.def("known_count", &known_count);
  m.def("forget", &forget);
}
