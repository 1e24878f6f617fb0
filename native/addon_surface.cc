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

bool admits(ArgKind kind, const Napi::Value &v) {
  switch (kind) {
    case ArgKind::any: return true;
    case ArgKind::number: return v.IsNumber();
    case ArgKind::string: return v.IsString();
    case ArgKind::boolean: return v.IsBoolean();
    case ArgKind::integer: return v.IsNumber() || v.IsBigInt();
    case ArgKind::bytes: return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
    case ArgKind::function: return v.IsFunction();
    case ArgKind::array: return v.IsArray();
    case ArgKind::object: return v.IsObject();
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

std::string type_name(const Napi::Value &v) {
  if (v.IsNull()) return "null";
  if (v.IsArray()) return "an array";
  if (v.IsTypedArray()) return "a typed array";
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_boolean: return "a boolean";
    case napi_number: return "a number";
    case napi_string: return "a string";
    case napi_bigint: return "a bigint";
    case napi_function: return "a function";
    default: return "an object";
  }
}

void check_args(const Napi::CallbackInfo &info, const AddonFunction &f) {
  for (int i = 0; i < f.nargs; i++) {
    const ArgCheck &c = f.args[i];
    Napi::Value v = info[i];
    bool ok = v.IsUndefined() ? c.optional : v.IsNull() ? c.nullable || c.kind == ArgKind::any : admits(c.kind, v);
    if (ok) continue;
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
