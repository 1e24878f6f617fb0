// The addon's described functions (addon.h): the surfaces' tables collected
// at static initialisation, exported by Init, each call's arguments checked
// against the description before the function runs, so that the functions
// themselves need not check what the description says.
#include "addon.h"

#include <string>
#include <vector>

namespace nooks {
namespace {

struct Table {
  const AddonFunction *fns;
  size_t n;
};

// Filled by static initialisers in other files: built on first use, never destroyed.
std::vector<Table> &tables() {
  static auto *v = new std::vector<Table>;
  return *v;
}

// One napi_typeof per argument (two for arrays and byte arrays): the check runs on every call.
bool admits(const ArgCheck &c, const Napi::Value &v) {
  napi_valuetype t = v.Type();
  if (t == napi_undefined) return c.optional;
  if (t == napi_null) return c.nullable || c.kind == ArgKind::any;
  switch (c.kind) {
    case ArgKind::any: return true;
    case ArgKind::number: return t == napi_number;
    case ArgKind::string: return t == napi_string;
    case ArgKind::boolean: return t == napi_boolean;
    case ArgKind::integer: return t == napi_number || t == napi_bigint;
    case ArgKind::bytes: return t == napi_object && v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
    case ArgKind::function: return t == napi_function;
    case ArgKind::array: return t == napi_object && v.IsArray();
    case ArgKind::object: return t == napi_object;
  }
  return false;
}

const char *kind_name(ArgKind kind) {
  switch (kind) {
    case ArgKind::any: return "given";
    case ArgKind::number: return "a number";
    case ArgKind::string: return "a string";
    case ArgKind::boolean: return "a boolean";
    case ArgKind::integer: return "a number or a bigint";
    case ArgKind::bytes: return "a Buffer or Uint8Array";
    case ArgKind::function: return "a function";
    case ArgKind::array: return "an array";
    case ArgKind::object: return "an object";
  }
  return "?";
}

const char *type_name(const Napi::Value &v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "a number";
    case napi_string: return "a string";
    case napi_bigint: return "a bigint";
    case napi_function: return "a function";
    case napi_object: return v.IsArray() ? "an array" : v.IsTypedArray() ? "a typed array" : "an object";
    default: return "a symbol or an external";
  }
}

void check_args(const Napi::CallbackInfo &info, const AddonFunction &f) {
  for (int i = 0; i < f.nargs; i++) {
    const ArgCheck &c = f.args[i];
    Napi::Value v = info[i];
    if (admits(c, v)) continue;
    std::string want = std::string(kind_name(c.kind)) + (c.optional ? " or undefined" : "") + (c.nullable ? " or null" : "");
    Napi::TypeError e = Napi::TypeError::New(info.Env(), std::string(f.name) + ": argument " + std::to_string(i + 1) + " must be " +
                                                             want + ", got " + type_name(v));
    e.Set("code", "ERR_INVALID_ARG_TYPE");
    throw e;
  }
}

Napi::Value checked_call(const Napi::CallbackInfo &info) {
  const AddonFunction &f = *static_cast<const AddonFunction *>(info.Data());
  check_args(info, f);
  return f.fn(info);
}

}  // namespace

AddonExports::AddonExports(const AddonFunction *fns, size_t n) { tables().push_back({fns, n}); }

void export_addon_functions(Napi::Env env, Napi::Object exports) {
  for (const Table &t : tables())
    for (size_t i = 0; i < t.n; i++)
      exports.Set(t.fns[i].name, Napi::Function::New<checked_call>(env, t.fns[i].name, const_cast<AddonFunction *>(&t.fns[i])));
}

}  // namespace nooks
