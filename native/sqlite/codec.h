// The one codec between SQL values and vectors, used by every module (the vec_* functions,
// vec_each, vec0, the dataset-aware vec table). Element types and metrics: kernels/kernels.h.
//
// Encodings (all little-endian, no header):
//   float32  subtype 223   4 bytes per element (IEEE-754); the default for untyped BLOB/TEXT
//   bit      subtype 224   1 bit per element, LSB-first (element i = bit i%8 of byte i/8)
//   int8     subtype 225   1 signed byte per element
//   JSON     subtype 74    TEXT that is read as a float32 JSON array
// The dataset-aware format (a `_vec_<t>.embedding` BLOB) is the float32 encoding without a
// subtype; an empty BLOB (or NULL) there means "no vector".
//
// Decoding by subtype (parse_vector with ParseMode::by_subtype, sqlite-vec's rules):
//   no subtype / 223 / 74 -> float32 parser: BLOB (non-empty, length % 4 == 0) or lenient JSON TEXT
//   224                   -> bit parser:     non-empty BLOB only
//   225                   -> int8 parser:    non-empty BLOB, or lenient JSON TEXT of integers
//   anything else         -> "Unknown subtype: N"
// The other modes run one parser and ignore the subtype (vec_f32, vec_int8, vec_bit and
// vec_quantize_int8 do that in sqlite-vec).
//
// Lenient JSON (sqlite-vec's, kept on purpose; it is not a validator): leading whitespace, then
// '['; numbers read by strtod (float32, so hex, nan, inf, 1e-3 parse) or strtol base 10 (int8);
// any run of whitespace/commas separates; parsing stops at the first ']', a missing ']' is
// accepted and text after ']' is ignored; an empty array is "zero-length vectors are not
// supported.".
//
// NaN / Inf: a float32 element that is NaN or +-Inf (from a BLOB, or JSON such as `nan` or
// `1e40`, which overflows float32) is rejected with "invalid float32 vector: element I is NaN"
// / "... is Inf" (I counted from 0), as sqlite-vec's later releases do: a NaN element makes
// every distance to the vector NaN, which breaks KNN ordering.
//
// The dataset-aware MATCH argument (parse_match_vector) has its own, stricter text forms:
// a float32 BLOB, a JSON array (strict; `null` reads as 0), base64 of the float32 bytes, or a
// comma-separated list of floats.
//
// Thread safety: no process-wide state; everything here is per call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "sqlite/ext.h"

// Function flags that older sqlite3.h headers lack (values are fixed by SQLite's ABI).
#ifndef SQLITE_SUBTYPE
#define SQLITE_SUBTYPE 0x000100000
#endif
#ifndef SQLITE_RESULT_SUBTYPE
#define SQLITE_RESULT_SUBTYPE 0x001000000
#endif

namespace vecsqlite {

// The BLOB subtypes of the element types, and of JSON text.
constexpr unsigned kSubtypeF32 = 223, kSubtypeBit = 224, kSubtypeI8 = 225, kSubtypeJson = 74;
unsigned dtype_subtype(Dtype t);

// ---- raw float32 blobs (the dataset-aware format) -----------------------------------------
enum class DecodeStatus { ok, empty, bad_length };
// Views `bytes` as float32 elements. On a little-endian host with a 4-byte aligned pointer the
// result aliases the input (no copy); otherwise the values are copied into `scratch`.
// `*out` and `*dim` are set on DecodeStatus::ok only.
DecodeStatus decode_f32_le(const void* bytes, size_t nbytes, std::vector<float>* scratch, const float** out,
                           size_t* dim);

// ---- typed vectors (the vec0 family) ------------------------------------------------------
// A decoded vector. Either borrows the bytes of the sqlite3_value it came from (valid until that
// value changes: within one xFunc/xUpdate/xFilter call) or owns a copy. Move-only.
class Vector {
 public:
  Vector() = default;
  Vector(Vector&&) = default;
  Vector& operator=(Vector&&) = default;
  Vector(const Vector&) = delete;
  Vector& operator=(const Vector&) = delete;

  Dtype type() const { return type_; }
  size_t dims() const { return dims_; }           // elements (bit: 8 x bytes)
  size_t nbytes() const { return nbytes_; }       // bytes of the encoding
  const uint8_t* bytes() const { return owned_ ? storage_.data() : borrowed_; }
  // Typed views. f32() is always 4-byte aligned (a misaligned BLOB is copied on parse).
  const float* f32() const { return reinterpret_cast<const float*>(bytes()); }
  const int8_t* i8() const { return reinterpret_cast<const int8_t*>(bytes()); }
  const uint8_t* bits() const { return bytes(); }

  // Makes the vector own its bytes (e.g. to keep it past the sqlite3_value's lifetime).
  void make_owned();

  // Builders (used by the parsers and by functions producing vectors).
  void borrow(Dtype t, const uint8_t* p, size_t nbytes, size_t dims);
  void own(Dtype t, std::vector<uint8_t>&& bytes, size_t dims);

 private:
  Dtype type_ = Dtype::f32;
  size_t dims_ = 0;
  size_t nbytes_ = 0;
  bool owned_ = false;
  const uint8_t* borrowed_ = nullptr;
  std::vector<uint8_t> storage_;  // 8-byte aligned by the allocator
};

// How to decode a value: by its subtype (sqlite-vec's rules), or with one parser.
enum class ParseMode { by_subtype, as_float32, as_int8, as_bit };

// Decodes `value`. Returns SQLITE_OK and fills *out, or SQLITE_ERROR with *err set to
// sqlite-vec's message (one of msg::* below, formatted), or SQLITE_NOMEM.
//   Vector v; std::string err;
//   if (parse_vector(argv[0], ParseMode::by_subtype, &v, &err) != SQLITE_OK) { ...err... }
int parse_vector(sqlite3_value* value, ParseMode mode, Vector* out, std::string* err);

// Decodes the JSON text s[0, len) as one vector of type t (f32: finite numbers; i8: integers
// in [-128, 127]; bit vectors have no JSON form), with parse_vector's messages.
int parse_vector_json(const char* s, long len, Dtype t, Vector* out, std::string* err);

// Sets a BLOB result with the element type's subtype (copies the bytes).
void result_vector(sqlite3_context* ctx, Dtype t, const void* bytes, size_t nbytes);
inline void result_vector(sqlite3_context* ctx, const Vector& v) { result_vector(ctx, v.type(), v.bytes(), v.nbytes()); }

// Function flags for registration: kPureFunction plus SQLITE_SUBTYPE (reads argument subtypes)
// and/or SQLITE_RESULT_SUBTYPE (sets a result subtype, passed only to SQLite >= 3.45, which
// introduced it).
int function_flags(bool reads_subtype, bool sets_subtype);

// SQLite's names for a value's storage class, as sqlite-vec prints them: "NULL", "INTEGER",
// "FLOAT", "TEXT", "BLOB".
const char* value_type_name(int sqlite_type);

// ---- the dataset-aware MATCH argument -------------------------------------------------------
// Decodes a MATCH value into *q (an empty BLOB gives an empty vector). On failure returns false
// with *err set to the dataset-aware table's message.
bool parse_match_vector(sqlite3_value* v, std::vector<float>* q, std::string* err);
// The dataset-aware messages name a value's type the way its original Go implementation did:
// "int64", "float64", "string", "[]uint8", "<nil>".
const char* value_go_type(sqlite3_value* v);
// `s` without leading and trailing ASCII whitespace.
std::string trim_space(const std::string& s);
// The value's text (empty for NULL).
std::string value_text(sqlite3_value* v);

// The error catalogue of the vec0 family: every message the vector layer and the vec_*
// functions emit, verbatim from sqlite-vec (typos such as "mistmatch" and "postive" included).
// printf formats are for sqlite3_mprintf / string_printf.
namespace msg {
constexpr const char* kZeroLength = "zero-length vectors are not supported.";
constexpr const char* kF32BlobLength =
    "invalid float32 vector BLOB length. Must be divisible by %d, found %d";
constexpr const char* kWrongValueType =
    "Input must have type BLOB (compact format) or TEXT (JSON), found %s";
constexpr const char* kBitType = "Unknown type for bitvector.";
constexpr const char* kInt8Type = "Unknown type for int8 vector.";
constexpr const char* kUnknownSubtype = "Unknown subtype: %d";
constexpr const char* kJsonStart = "JSON array parsing error: Input does not start with '['";
constexpr const char* kJsonParse = "JSON parsing error";
constexpr const char* kJsonInt8Range = "JSON parsing error: value out of range for int8";
constexpr const char* kNonFinite = "invalid float32 vector: element %d is %s";  // NaN | Inf

constexpr const char* kReadFirst = "Error reading 1st vector: %s";
constexpr const char* kReadSecond = "Error reading 2nd vector: %s";
constexpr const char* kTypeMismatch =
    "Vector type mistmatch. First vector has type %s, while the second has type %s.";
constexpr const char* kDimMismatch =
    "Vector dimension mistmatch. First vector has %lld dimensions, while the second has %lld "
    "dimensions.";

constexpr const char* kL2Bit = "Cannot calculate L2 distance between two bitvectors.";
constexpr const char* kL1Bit = "Cannot calculate L1 distance between two bitvectors.";
constexpr const char* kCosineBit = "Cannot calculate cosine distance between two bitvectors.";
constexpr const char* kHammingF32 = "Cannot calculate hamming distance between two float32 vectors.";
constexpr const char* kHammingI8 = "Cannot calculate hamming distance between two int8 vectors.";
constexpr const char* kAddBit = "Cannot add two bitvectors together.";
constexpr const char* kSubBit = "Cannot subtract two bitvectors together.";
constexpr const char* kNormalizeType = "only float32 vectors are supported when normalizing";

constexpr const char* kSliceStartNeg = "slice 'start' index must be a postive number.";
constexpr const char* kSliceEndNeg = "slice 'end' index must be a postive number.";
constexpr const char* kSliceStartBig = "slice 'start' index is greater than the number of dimensions";
constexpr const char* kSliceEndBig = "slice 'end' index is greater than the number of dimensions";
constexpr const char* kSliceOrder = "slice 'start' index is greater than 'end' index";
constexpr const char* kSliceEmpty =
    "slice 'start' index is equal to the 'end' index, vectors must have non-zero length";
constexpr const char* kSliceStartBit = "start index must be divisible by 8.";
constexpr const char* kSliceEndBit = "end index must be divisible by 8.";

constexpr const char* kQuantizeBinaryDims =
    "Binary quantization requires vectors with a length divisible by 8";
constexpr const char* kQuantizeBinaryType = "Can only binary quantize float or int8 vectors";
constexpr const char* kQuantizeInt8Unit = "2nd argument to vec_quantize_int8() must be 'unit'.";
}  // namespace msg

}  // namespace vecsqlite
