// Node-API glue: exposes the kernels to JavaScript. No SQLite here; the SQLite side of the same
// .node file is reached through db.loadExtension().
//
//   isa()                                  -> "scalar" | "avx2" | "avx512" | "neon"
//   version                                -> package version string
//   distance(a, b, metric)                 -> number
//   topK(query, matrix, k, metric)         -> { indices: Uint32Array, distances: Float32Array }
//
// Element types: Float32Array (metrics l2, l2sq, cosine, dot, l1), Int8Array (l2, l2sq, cosine,
// dot), Uint8Array as packed bits (hamming). dot is reported as a distance, -(a.b).
// The module holds no state of its own, so it is safe in any number of worker threads.
#include "node/weak_napi.h"  // must precede napi.h: makes every napi_* import weak

#include <napi.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/search.h"
#include "kernels/kernels.h"
#include "version.h"

namespace vecsqlite {
namespace {

struct MetricSpec {
  Metric metric;
  Dtype dtype;
};

// Maps a typed array and a metric name onto a kernel; on failure throws and returns false.
bool resolve_metric(const Napi::Env& env, napi_typedarray_type type, const std::string& name,
                    MetricSpec* out) {
  Dtype dtype;
  switch (type) {
    case napi_float32_array: dtype = Dtype::f32; break;
    case napi_int8_array: dtype = Dtype::i8; break;
    case napi_uint8_array: dtype = Dtype::u1; break;
    default:
      Napi::TypeError::New(env, "vecsqlite: expected Float32Array, Int8Array or Uint8Array (bits)")
          .ThrowAsJavaScriptException();
      return false;
  }
  Metric m;
  if (!metric_from_name(name.c_str(), &m)) {
    Napi::TypeError::New(env, "vecsqlite: unknown metric '" + name +
                                  "' (expected l2, l2sq, cosine, dot, l1 or hamming)")
        .ThrowAsJavaScriptException();
    return false;
  }
  if (!metric_supports(m, dtype)) {
    static const char* const dtype_names[] = {"Float32Array", "Int8Array", "Uint8Array (bits)"};
    Napi::TypeError::New(env, "vecsqlite: metric '" + name + "' is not defined for " +
                                  dtype_names[int(dtype)])
        .ThrowAsJavaScriptException();
    return false;
  }
  out->metric = m;
  out->dtype = dtype;
  return true;
}

bool get_typed_array(const Napi::Env& env, const Napi::Value& v, const char* what,
                     Napi::TypedArray* out) {
  if (!v.IsTypedArray()) {
    Napi::TypeError::New(env, std::string("vecsqlite: expected ") + what + " to be a typed array")
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = v.As<Napi::TypedArray>();
  return true;
}

const void* data_of(const Napi::TypedArray& a) {
  return static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
}

Napi::Value Isa(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), isa_name(kernels().isa));
}

Napi::Value Distance(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArray a, b;
  if (!get_typed_array(env, info[0], "a", &a) || !get_typed_array(env, info[1], "b", &b)) return env.Undefined();
  if (!info[2].IsString()) {
    Napi::TypeError::New(env, "vecsqlite: expected metric to be a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (a.TypedArrayType() != b.TypedArrayType()) {
    Napi::TypeError::New(env, "vecsqlite: a and b must be typed arrays of the same type").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  MetricSpec spec;
  if (!resolve_metric(env, a.TypedArrayType(), info[2].As<Napi::String>().Utf8Value(), &spec)) return env.Undefined();
  if (a.ElementLength() != b.ElementLength()) {
    Napi::RangeError::New(env, "vecsqlite: dimension mismatch: " + std::to_string(a.ElementLength()) +
                                   " vs " + std::to_string(b.ElementLength()))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (a.ElementLength() == 0) {
    Napi::RangeError::New(env, "vecsqlite: vectors must not be empty").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  float out = 0;
  block_distance(kernels(), spec.metric, spec.dtype, data_of(a), data_of(b), a.ElementLength(), 1, &out);
  return Napi::Number::New(env, out);
}

Napi::Value TopKFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArray q, m;
  if (!get_typed_array(env, info[0], "query", &q) || !get_typed_array(env, info[1], "matrix", &m)) return env.Undefined();
  if (q.TypedArrayType() != m.TypedArrayType()) {
    Napi::TypeError::New(env, "vecsqlite: query and matrix must be typed arrays of the same type").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!info[2].IsNumber()) {
    Napi::TypeError::New(env, "vecsqlite: expected k to be a non-negative integer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const double kd = info[2].As<Napi::Number>().DoubleValue();
  if (!(kd >= 0) || kd != std::floor(kd) || kd > 4294967295.0) {
    Napi::RangeError::New(env, "vecsqlite: expected k to be a non-negative integer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!info[3].IsString()) {
    Napi::TypeError::New(env, "vecsqlite: expected metric to be a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  MetricSpec spec;
  if (!resolve_metric(env, q.TypedArrayType(), info[3].As<Napi::String>().Utf8Value(), &spec)) return env.Undefined();
  const size_t dim = q.ElementLength();
  if (dim == 0) {
    Napi::RangeError::New(env, "vecsqlite: query must not be empty").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (m.ElementLength() % dim != 0) {
    Napi::RangeError::New(env, "vecsqlite: matrix length " + std::to_string(m.ElementLength()) +
                                   " is not a multiple of the query dimension " + std::to_string(dim))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const size_t rows = m.ElementLength() / dim;
  // The matrix as rows for the search entry (ids = row numbers; no sketch).
  std::vector<SearchSource> sources(1);
  RowView& v = sources[0].rows;
  v.dtype = spec.dtype;
  v.dim = spec.dtype == Dtype::u1 ? dim * 8 : dim;
  v.row_bytes = dtype_row_bytes(spec.dtype, v.dim);
  v.data = static_cast<const uint8_t*>(data_of(m));
  v.rows = rows;
  SearchRequest req;
  req.metric = spec.metric;
  req.query = data_of(q);
  req.k = size_t(kd);
  std::vector<TopK::Item> items;
  try {
    search(kernels(), req, sources, &items);
  } catch (const std::bad_alloc&) {
    Napi::Error::New(env, "vecsqlite: out of memory").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const size_t got = items.size();
  Napi::Uint32Array indices = Napi::Uint32Array::New(env, got);
  Napi::Float32Array distances = Napi::Float32Array::New(env, got);
  for (size_t i = 0; i < got; i++) {
    indices[i] = uint32_t(items[i].id);
    distances[i] = items[i].distance;
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("indices", indices);
  result.Set("distances", distances);
  return result;
}

// firstNonFinite(Float32Array): the index of the first NaN or infinite element, or -1 (the
// kernels' finite check over the whole array, then a scan of the block that failed).
Napi::Value FirstNonFinite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Napi::TypeError::New(env, "vecsqlite: expected a Float32Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Float32Array a = info[0].As<Napi::Float32Array>();
  const float* p = a.Data();
  const size_t n = a.ElementLength();
  const KernelTable& kt = kernels();
  constexpr size_t kStep = 1 << 16;
  for (size_t at = 0; at < n; at += kStep) {
    const size_t len = std::min(kStep, n - at);
    if (kt.finite_f32(p + at, len)) continue;
    for (size_t i = at; i < at + len; i++)
      if (!std::isfinite(p[i])) return Napi::Number::New(env, double(i));
  }
  return Napi::Number::New(env, -1);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const char* err = nullptr;
  if (!kernels_init(&err) || (err = core_env_error()) != nullptr) {
    Napi::Error::New(env, err).ThrowAsJavaScriptException();
    return exports;
  }
  exports.Set("isa", Napi::Function::New(env, Isa, "isa"));
  exports.Set("distance", Napi::Function::New(env, Distance, "distance"));
  exports.Set("topK", Napi::Function::New(env, TopKFn, "topK"));
  exports.Set("firstNonFinite", Napi::Function::New(env, FirstNonFinite, "firstNonFinite"));
  exports.Set("version", Napi::String::New(env, VECSQLITE_VERSION));
  return exports;
}

}  // namespace
}  // namespace vecsqlite

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return vecsqlite::Init(env, exports);
}

NODE_API_MODULE(vecsqlite, InitModule)
