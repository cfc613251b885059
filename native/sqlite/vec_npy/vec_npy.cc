// NumPy `.npy` input for bulk loading: the function vec_npy_file(path) and the table-valued
// function vec_npy_each(npy_blob_or_vec_npy_file), compatible with sqlite-vec 0.1.9.
//
//   insert into t(rowid, embedding)
//     select rowid + 1, vector from vec_npy_each(vec_npy_file('/data/emb.npy'));
//   insert into t(rowid, embedding) select rowid, vector from vec_npy_each(?);   -- ? = a .npy BLOB
//
// Declared schema:  CREATE TABLE x(vector, input hidden)
//   rowid   row number in the array, from 0
//   vector  one row as a float32 BLOB (4 bytes per element, little-endian)
//
// Accepted files: format versions 1.0 (16-bit header length) and 2.0 / 3.0 (32-bit), dtype
// '<f4', C order, shape (N, D) (N vectors of D elements), (D,) (one vector) or (0,) (none).
// The data must be exactly N * D * 4 bytes. Every other file is refused with a message that
// names the problem; the messages of the original ("numpy array too short", "... does not
// contain the 'magic' header", "Could not open numpy file", "Only '<f4' values are supported",
// "Expected a data size of X, found Y", ...) are kept as their prefixes.
//
// The BLOB form reads the argument's bytes in place, as the original does: SQLite evaluates a
// table-valued function's arguments into registers before xFilter and leaves them alone until
// the scan ends or is restarted by another xFilter (which re-reads them), and only a BLOB is
// accepted, so no type conversion can move the bytes. Copying would double the memory an
// import touches. The file form streams the file in chunks of 1024 vectors, so arrays larger
// than memory load fine. vec_npy_file() returns a pointer value (sqlite3_result_pointer), which SQL
// cannot forge or store: it only works as the direct argument of vec_npy_each.
//
// Eponymous-only module (xCreate = NULL). Thread safety: no process-wide state.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "sqlite/ext.h"

namespace vecsqlite {

int register_vec_npy(sqlite3* db, char** pzErr);

namespace {

constexpr const char* kNpyFilePointer = "vec0-npy-file";
constexpr int kColVector = 0;
constexpr int kColInput = 1;
constexpr size_t kChunkVectors = 1024;
constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

// ---- header ---------------------------------------------------------------------------------

struct NpyShape {
  size_t rows = 0;   // vectors
  size_t dims = 0;   // elements per vector
  size_t data_offset = 0;  // bytes before the first element
};

// A small scanner over the Python-literal dict of a .npy header:
//   {'descr': '<f4', 'fortran_order': False, 'shape': (1000, 128), }
class HeaderScanner {
 public:
  HeaderScanner(const char* p, size_t n) : p_(p), end_(p + n) {}
  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) p_++;
  }
  bool eat(char c) {
    skip_space();
    if (p_ < end_ && *p_ == c) {
      p_++;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    skip_space();
    return p_ < end_ && *p_ == c;
  }
  bool string(std::string* out) {
    skip_space();
    if (p_ >= end_ || (*p_ != '\'' && *p_ != '"')) return false;
    const char q = *p_++;
    const char* s = p_;
    while (p_ < end_ && *p_ != q) p_++;
    if (p_ >= end_) return false;
    out->assign(s, size_t(p_ - s));
    p_++;
    return true;
  }
  bool word(std::string* out) {
    skip_space();
    const char* s = p_;
    while (p_ < end_ && ((*p_ >= 'A' && *p_ <= 'Z') || (*p_ >= 'a' && *p_ <= 'z'))) p_++;
    out->assign(s, size_t(p_ - s));
    return !out->empty();
  }
  bool number(uint64_t* out) {
    skip_space();
    if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
    uint64_t v = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      if (v > (UINT64_MAX - 9) / 10) return false;
      v = v * 10 + uint64_t(*p_ - '0');
      p_++;
    }
    if (p_ < end_ && (*p_ == 'L' || *p_ == 'l')) p_++;  // Python 2 long suffix
    *out = v;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

constexpr const char* kParseError = "Error parsing numpy array: ";

// Parses the header dict. On error returns false with *err set.
bool parse_header_dict(const char* text, size_t n, NpyShape* shape, std::string* err) {
  HeaderScanner sc(text, n);
  if (!sc.eat('{')) {
    *err = std::string(kParseError) + "numpy header did not start with '{'";
    return false;
  }
  bool have_descr = false, have_order = false, have_shape = false;
  std::vector<uint64_t> dims;
  while (!sc.eat('}')) {
    std::string key;
    if (!sc.string(&key)) {
      *err = std::string(kParseError) + "expected a string as key in numpy header";
      return false;
    }
    if (!sc.eat(':')) {
      *err = std::string(kParseError) + "expected a ':' after key in numpy header";
      return false;
    }
    if (key == "descr") {
      std::string descr;
      if (!sc.string(&descr)) {
        *err = std::string(kParseError) + "expected a string value after 'descr' key";
        return false;
      }
      if (descr != "<f4") {
        *err = std::string(kParseError) +
               "Only '<f4' values are supported in sqlite-vec numpy functions (this array has dtype '" +
               descr + "'; vec_npy_each only supports float32 vectors)";
        return false;
      }
      have_descr = true;
    } else if (key == "fortran_order") {
      std::string w;
      if (!sc.word(&w) || (w != "False" && w != "True")) {
        *err = std::string(kParseError) + "expected True or False after 'fortran_order' key";
        return false;
      }
      if (w != "False") {
        *err = std::string(kParseError) +
               "Only fortran_order = False is supported in sqlite-vec numpy functions";
        return false;
      }
      have_order = true;
    } else if (key == "shape") {
      if (!sc.eat('(')) {
        *err = std::string(kParseError) + "Expected left parenthesis '(' after shape key";
        return false;
      }
      while (!sc.eat(')')) {
        uint64_t d = 0;
        if (!sc.number(&d)) {
          *err = std::string(kParseError) + "expected a number in shape value";
          return false;
        }
        dims.push_back(d);
        if (!sc.eat(',') && !sc.peek(')')) {
          *err = std::string(kParseError) + "expected ',' or ')' in shape value";
          return false;
        }
      }
      have_shape = true;
    } else {
      *err = std::string(kParseError) + "unknown key in numpy header: '" + key + "'";
      return false;
    }
    if (!sc.eat(',') && !sc.peek('}')) {
      *err = std::string(kParseError) + "unknown extra token after value";
      return false;
    }
  }
  if (!have_descr || !have_order || !have_shape) {
    *err = std::string(kParseError) + "numpy header lacks the '" +
           (!have_descr ? "descr" : !have_order ? "fortran_order" : "shape") + "' key";
    return false;
  }
  if (dims.size() == 2) {
    shape->rows = size_t(dims[0]);
    shape->dims = size_t(dims[1]);
  } else if (dims.size() == 1) {  // one vector; (0,) is an empty array
    shape->rows = dims[0] ? 1 : 0;
    shape->dims = size_t(dims[0]);
  } else {
    *err = std::string(kParseError) + "only 1- or 2-dimensional arrays are supported, this one has " +
           std::to_string(dims.size()) + " dimensions";
    return false;
  }
  if (shape->rows > 0 && shape->dims == 0) {
    *err = std::string(kParseError) + "zero-length vectors are not supported";
    return false;
  }
  if (shape->dims != 0 && shape->rows > (SIZE_MAX / 4) / shape->dims) {
    *err = std::string(kParseError) + "array shape is too large";
    return false;
  }
  return true;
}

// Parses the preamble in `head` (the first `n` bytes of the array; callers pass at least the
// full header when the input is that long). `what` is "numpy array" or "numpy array file".
bool parse_preamble(const unsigned char* head, size_t n, uint64_t total, const char* what, NpyShape* shape,
                    std::string* err) {
  if (n < 10) {
    *err = std::string(what) + " too short (" + std::to_string(total) + " bytes; a .npy header needs at least 10)";
    return false;
  }
  if (std::memcmp(head, kMagic, sizeof kMagic) != 0) {
    *err = std::string(what) + " does not contain the 'magic' header (\\x93NUMPY)";
    return false;
  }
  const unsigned major = head[6];
  size_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = size_t(head[8]) | size_t(head[9]) << 8;
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (n < 12) {
      *err = std::string(what) + " too short for a version " + std::to_string(major) + " header";
      return false;
    }
    header_len = size_t(head[8]) | size_t(head[9]) << 8 | size_t(head[10]) << 16 | size_t(head[11]) << 24;
    prefix = 12;
  } else {
    *err = std::string(what) + " has an unsupported format version " + std::to_string(major);
    return false;
  }
  if (uint64_t(prefix) + header_len > total || prefix + header_len > n) {
    *err = std::string(what) + " header length is invalid (header of " + std::to_string(header_len) +
           " bytes, input of " + std::to_string(total) + " bytes)";
    return false;
  }
  if (!parse_header_dict(reinterpret_cast<const char*>(head + prefix), header_len, shape, err)) return false;
  shape->data_offset = prefix + header_len;
  const uint64_t expected = uint64_t(shape->rows) * shape->dims * 4;
  const uint64_t found = total - shape->data_offset;
  if (expected != found) {
    *err = std::string(what) + " error: Expected a data size of " + std::to_string(expected) + ", found " +
           std::to_string(found) + (found < expected ? " (the file is truncated)" : " (trailing bytes)");
    return false;
  }
  return true;
}

// ---- vec_npy_file ---------------------------------------------------------------------------

void free_path(void* p) { sqlite3_free(p); }

void npy_file_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    sqlite3_result_error(ctx, "vec_npy_file: expected a file path (TEXT)", -1);
    return;
  }
  const char* path = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  char* copy = sqlite3_mprintf("%s", path);
  if (copy == nullptr) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_pointer(ctx, copy, kNpyFilePointer, free_path);
}

// ---- vec_npy_each ---------------------------------------------------------------------------

struct NpyCursor {
  sqlite3_vtab_cursor base;  // must be first
  NpyShape shape;
  sqlite3_int64 row = 0;
  // BLOB input: the array inside the argument's bytes (borrowed, see the top of the file).
  const unsigned char* data = nullptr;
  // File input: the open file and the current chunk of vectors.
  FILE* file = nullptr;
  std::vector<unsigned char> chunk;
  size_t chunk_first = 0;  // row number of chunk's first vector
  size_t chunk_rows = 0;
  std::string path;

  void reset() {
    if (file != nullptr) std::fclose(file);
    file = nullptr;
    shape = NpyShape();
    row = 0;
    data = nullptr;
    chunk.clear();
    chunk_first = chunk_rows = 0;
    path.clear();
  }
  ~NpyCursor() { reset(); }
};

void set_error(sqlite3_vtab* vtab, const std::string& msg) {
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = sqlite3_mprintf("%s", msg.c_str());
}

int npyConnect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** ppVtab, char**) {
  int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(vector, input hidden)");
  if (rc != SQLITE_OK) return rc;
  sqlite3_vtab* vtab = static_cast<sqlite3_vtab*>(sqlite3_malloc(sizeof(sqlite3_vtab)));
  if (vtab == nullptr) return SQLITE_NOMEM;
  *vtab = sqlite3_vtab{};
  *ppVtab = vtab;
  return SQLITE_OK;
}

int npyDisconnect(sqlite3_vtab* vtab) {
  sqlite3_free(vtab);
  return SQLITE_OK;
}

int npyBestIndex(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  int input = -1;
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (c.iColumn == kColInput && c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.usable) input = i;
  }
  if (input < 0) {
    set_error(vtab, "input argument is required");
    return SQLITE_ERROR;
  }
  info->aConstraintUsage[input].argvIndex = 1;
  info->aConstraintUsage[input].omit = 1;
  info->estimatedCost = 100000;
  info->estimatedRows = 100000;
  return SQLITE_OK;
}

int npyOpen(sqlite3_vtab*, sqlite3_vtab_cursor** ppCursor) {
  NpyCursor* cur = new (std::nothrow) NpyCursor();
  if (cur == nullptr) return SQLITE_NOMEM;
  *ppCursor = &cur->base;
  return SQLITE_OK;
}

int npyClose(sqlite3_vtab_cursor* cursor) {
  delete reinterpret_cast<NpyCursor*>(cursor);
  return SQLITE_OK;
}

// Reads the chunk holding `row` (file input). SQLITE_OK or an error with the vtab message set.
int read_chunk(NpyCursor* cur) {
  const size_t vbytes = cur->shape.dims * 4;
  const size_t want = std::min(kChunkVectors, cur->shape.rows - size_t(cur->row));
  cur->chunk.resize(want * vbytes);
  const size_t got = std::fread(cur->chunk.data(), vbytes, want, cur->file);
  if (got != want) {
    set_error(cur->base.pVtab, "numpy array file error: cannot read '" + cur->path + "' at vector " +
                                   std::to_string(size_t(cur->row) + got) + " (the file changed or is unreadable)");
    return SQLITE_ERROR;
  }
  cur->chunk_first = size_t(cur->row);
  cur->chunk_rows = got;
  return SQLITE_OK;
}

int open_file(NpyCursor* cur, const char* path) {
  sqlite3_vtab* vtab = cur->base.pVtab;
  cur->path = path;
  cur->file = std::fopen(path, "rb");
  if (cur->file == nullptr) {
    set_error(vtab, std::string("Could not open numpy file '") + path + "': " + std::strerror(errno));
    return SQLITE_ERROR;
  }
  if (fseeko(cur->file, 0, SEEK_END) != 0) {
    set_error(vtab, std::string("Could not read numpy file '") + path + "'");
    return SQLITE_ERROR;
  }
  const long long size = ftello(cur->file);
  std::rewind(cur->file);
  if (size < 0) {
    set_error(vtab, std::string("Could not read numpy file '") + path + "'");
    return SQLITE_ERROR;
  }
  // Read the fixed prefix, then the whole header (its length is in the prefix).
  std::vector<unsigned char> head(12);
  size_t n = std::fread(head.data(), 1, head.size(), cur->file);
  size_t header_len = 0;
  if (n >= 10 && std::memcmp(head.data(), kMagic, sizeof kMagic) == 0) {
    header_len = head[6] == 1 ? (size_t(head[8]) | size_t(head[9]) << 8)
                              : (size_t(head[8]) | size_t(head[9]) << 8 | size_t(head[10]) << 16 |
                                 size_t(head[11]) << 24);
    const size_t full = std::min<uint64_t>(uint64_t(size), 12 + uint64_t(header_len));
    if (full > n) {
      head.resize(full);
      n += std::fread(head.data() + n, 1, full - n, cur->file);
    }
  }
  std::string err;
  if (!parse_preamble(head.data(), n, uint64_t(size), "numpy array file", &cur->shape, &err)) {
    set_error(vtab, err + " ('" + path + "')");
    return SQLITE_ERROR;
  }
  if (fseeko(cur->file, off_t(cur->shape.data_offset), SEEK_SET) != 0) {
    set_error(vtab, std::string("Could not read numpy file '") + path + "'");
    return SQLITE_ERROR;
  }
  return cur->shape.rows > 0 ? read_chunk(cur) : SQLITE_OK;
}

int npyFilter(sqlite3_vtab_cursor* cursor, int, const char*, int argc, sqlite3_value** argv) {
  NpyCursor* cur = reinterpret_cast<NpyCursor*>(cursor);
  cur->reset();
  if (argc != 1) return SQLITE_ERROR;
  try {
    if (const char* path = static_cast<const char*>(sqlite3_value_pointer(argv[0], kNpyFilePointer))) {
      return open_file(cur, path);
    }
    const int type = sqlite3_value_type(argv[0]);
    if (type != SQLITE_BLOB) {
      set_error(cursor->pVtab, std::string("vec_npy_each: expected a .npy BLOB or vec_npy_file(path), received ") +
                                   (type == SQLITE_TEXT      ? "TEXT (pass a path through vec_npy_file())"
                                    : type == SQLITE_NULL    ? "NULL"
                                    : type == SQLITE_INTEGER ? "INTEGER"
                                                             : "FLOAT"));
      return SQLITE_ERROR;
    }
    const unsigned char* p = static_cast<const unsigned char*>(sqlite3_value_blob(argv[0]));
    const size_t n = size_t(sqlite3_value_bytes(argv[0]));
    std::string err;
    if (!parse_preamble(p, n, n, "numpy array", &cur->shape, &err)) {
      set_error(cursor->pVtab, err);
      return SQLITE_ERROR;
    }
    cur->data = p + cur->shape.data_offset;
  } catch (const std::bad_alloc&) {
    cur->reset();
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

int npyNext(sqlite3_vtab_cursor* cursor) {
  NpyCursor* cur = reinterpret_cast<NpyCursor*>(cursor);
  cur->row++;
  if (cur->file != nullptr && size_t(cur->row) < cur->shape.rows &&
      size_t(cur->row) >= cur->chunk_first + cur->chunk_rows) {
    try {
      return read_chunk(cur);
    } catch (const std::bad_alloc&) {
      return SQLITE_NOMEM;
    }
  }
  return SQLITE_OK;
}

int npyEof(sqlite3_vtab_cursor* cursor) {
  const NpyCursor* cur = reinterpret_cast<NpyCursor*>(cursor);
  return size_t(cur->row) >= cur->shape.rows;
}

int npyColumn(sqlite3_vtab_cursor* cursor, sqlite3_context* ctx, int col) {
  const NpyCursor* cur = reinterpret_cast<NpyCursor*>(cursor);
  if (col != kColVector) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  const size_t vbytes = cur->shape.dims * 4;
  const unsigned char* p = cur->file != nullptr
                               ? cur->chunk.data() + (size_t(cur->row) - cur->chunk_first) * vbytes
                               : cur->data + size_t(cur->row) * vbytes;
  sqlite3_result_blob64(ctx, p, vbytes, SQLITE_TRANSIENT);
  return SQLITE_OK;
}

int npyRowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* pRowid) {
  *pRowid = reinterpret_cast<NpyCursor*>(cursor)->row;
  return SQLITE_OK;
}

sqlite3_module make_npy_module() {
  sqlite3_module m{};
  m.iVersion = 0;
  m.xCreate = nullptr;  // eponymous-only
  m.xConnect = npyConnect;
  m.xBestIndex = npyBestIndex;
  m.xDisconnect = npyDisconnect;
  m.xOpen = npyOpen;
  m.xClose = npyClose;
  m.xFilter = npyFilter;
  m.xNext = npyNext;
  m.xEof = npyEof;
  m.xColumn = npyColumn;
  m.xRowid = npyRowid;
  return m;
}

const sqlite3_module kNpyModule = make_npy_module();

}  // namespace

int register_vec_npy(sqlite3* db, char** pzErr) {
  int rc = sqlite3_create_function_v2(db, "vec_npy_file", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, nullptr, npy_file_fn, nullptr,
                                      nullptr, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_create_module_v2(db, "vec_npy_each", &kNpyModule, nullptr, nullptr);
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("vecsqlite: cannot register vec_npy_each: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace vecsqlite
