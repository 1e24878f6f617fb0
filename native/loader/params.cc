#include "params.h"

#include <nooks/kapi.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstring>

#include "../domain/driver_memory.h"
#include "../xpc/xpc.h"
#include "loader.h"

namespace nooks {

namespace {

constexpr size_t kMaxNameLen = 64;
constexpr size_t kMaxStringLen = 4095;  // a charp value, as Linux's 1024 but roomier

const char *type_name(uint32_t t) {
  switch (t) {
    case NOOKS_PARAM_int: return "int";
    case NOOKS_PARAM_long: return "long";
    case NOOKS_PARAM_bool: return "bool";
    case NOOKS_PARAM_charp: return "charp";
  }
  return nullptr;
}

size_t type_size(uint32_t t) {
  switch (t) {
    case NOOKS_PARAM_int: return sizeof(int32_t);
    case NOOKS_PARAM_bool: return sizeof(bool);
    default: return sizeof(int64_t);  // long, charp
  }
}

// By name: the compiler does not keep the declarations in source order.
std::string declared(const std::vector<ModuleParam> &params) {
  std::vector<std::string> each;
  for (const ModuleParam &p : params) each.push_back(p.name + " (" + type_name(p.type) + ")");
  std::sort(each.begin(), each.end());
  std::string s;
  for (const std::string &e : each) s += (s.empty() ? "" : ", ") + e;
  return s.empty() ? "none (module_param in nooks/kapi.h)" : s;
}

[[noreturn]] void refuse(const std::string &path, const std::string &why) { throw LoadError("EPARAM", path + ": " + why); }
[[noreturn]] void refuse(const Domain *d, const std::string &why) { refuse(d->path, why); }

// A declaration's type, and its name not declared before; the declaration in params.
void declare(const std::string &path, std::vector<ModuleParam> &params, const ModuleParam &p) {
  if (!type_name(p.type))
    refuse(path, "parameter '" + p.name + "' has unknown type " + std::to_string(p.type) + " (int, long, bool or charp)");
  for (const ModuleParam &q : params)
    if (q.name == p.name) refuse(path, "parameter '" + p.name + "' is declared twice");
  params.push_back(p);
}

// A declaration whose type is known names a variable of that size inside the driver's data.
void check_variable(const std::string &path, const ModuleParam &p, uint32_t size, const std::vector<Range> &data) {
  if (!type_name(p.type)) return;  // declare refuses it
  bool in_data = false;
  for (const Range &r : data) in_data |= r.contains(p.var, type_size(p.type));
  if (size != type_size(p.type) || !in_data)
    refuse(path, "parameter '" + p.name + "' does not name a variable of the driver's data of type " + type_name(p.type));
}

// A parameter's name in the driver's image, checked byte by byte (it may end at the edge of it).
std::string name_at(const Domain *d, uintptr_t s) {
  std::string name;
  for (size_t i = 0; i <= kMaxNameLen && d->readable_by_driver(s + i, 1); i++) {
    char c = *(const char *)(s + i);
    if (!c) return name;
    name += c;
  }
  refuse(d, "malformed parameter declaration in .nooks_params: its name is outside the driver or too long");
}

}  // namespace

void params_declare(Domain *d, uintptr_t lo, size_t size) {
  if (size % sizeof(nooks_param) || lo % alignof(nooks_param) || !d->readable_by_driver(lo, size))
    refuse(d, "malformed section .nooks_params (declare parameters with module_param from nooks/kapi.h)");
  std::vector<Range> data;
  for (const Segment &s : d->segments) data.push_back(s.range);
  DomainMemoryAccess access;
  for (const nooks_param *e = (const nooks_param *)lo; (uintptr_t)e < lo + size; e++) {
    ModuleParam p;
    p.name = name_at(d, (uintptr_t)e->name);
    p.type = e->type;
    p.var = (uintptr_t)e->var;
    check_variable(d->path, p, e->size, data);
    declare(d->path, d->params, p);
  }
}

void params_declared_in_file(const DriverImage &img, const std::string &path, uint64_t vaddr, size_t size,
                             const std::vector<Range> &data, std::vector<ModuleParam> *params) {
  if (size % sizeof(nooks_param) || vaddr % alignof(nooks_param))  // the load base is page-aligned: as params_declare
    refuse(path, "malformed section .nooks_params (declare parameters with module_param from nooks/kapi.h)");
  for (uint64_t at = vaddr; at < vaddr + size; at += sizeof(nooks_param)) {
    const nooks_param *e = img.at<nooks_param>(img.file_offset_of(at, sizeof(nooks_param)));
    uint64_t name_at = img.file_offset_of(img.pointer_at(at + offsetof(nooks_param, name)), 1);
    const char *name = img.at<char>(name_at, 1);
    size_t len = name ? strnlen(name, std::min<size_t>(kMaxNameLen + 1, img.bytes.size() - name_at)) : 0;
    if (!e || !name || len > kMaxNameLen || name_at + len == img.bytes.size())
      refuse(path, "malformed parameter declaration in .nooks_params: its name is outside the driver or too long");
    ModuleParam p;
    p.name = std::string(name, len);
    p.type = e->type;
    p.var = img.pointer_at(at + offsetof(nooks_param, var));
    check_variable(path, p, e->size, data);
    declare(path, *params, p);
  }
}

void params_check(const std::string &path, std::vector<ModuleParam> &params, const std::vector<ParamArg> &given) {
  for (const ParamArg &a : given) {
    ModuleParam *p = nullptr;
    for (ModuleParam &q : params)
      if (q.name == a.name) p = &q;
    if (!p) refuse(path, "no parameter '" + a.name + "'; the driver declares: " + declared(params));
    std::string expected;
    switch (p->type) {
      case NOOKS_PARAM_int:
        if (a.kind != ParamArg::Kind::integer || !a.exact || a.integer < INT32_MIN || a.integer > INT32_MAX)
          expected = "an integer from -2147483648 to 2147483647";
        break;
      case NOOKS_PARAM_long:
        if (a.kind != ParamArg::Kind::integer || !a.exact) expected = "an integer from -2^63 to 2^63-1 (a bigint past 2^53)";
        break;
      case NOOKS_PARAM_bool:
        if (a.kind != ParamArg::Kind::boolean) expected = "true or false";
        break;
      case NOOKS_PARAM_charp:
        if (a.kind != ParamArg::Kind::string || a.text.size() > kMaxStringLen || memchr(a.text.data(), 0, a.text.size()))
          expected = "a string of at most " + std::to_string(kMaxStringLen) + " bytes without NUL";
        break;
    }
    if (!expected.empty())
      refuse(path, "parameter '" + a.name + "' is " + type_name(p->type) + ": expected " + expected + ", got " + a.shown);
    p->given = true;
    p->value = a.integer;
    p->text = a.text;
  }
}

void params_give(Domain *d, const std::vector<ParamArg> &given) { params_check(d->path, d->params, given); }

bool params_apply(Domain *d, std::string *why) {
  DomainMemoryAccess access;
  for (const ModuleParam &p : d->params) {
    if (!p.given) continue;
    switch (p.type) {
      case NOOKS_PARAM_int: *(int32_t *)p.var = (int32_t)p.value; break;
      case NOOKS_PARAM_long: *(int64_t *)p.var = p.value; break;
      case NOOKS_PARAM_bool: *(bool *)p.var = p.value != 0; break;
      case NOOKS_PARAM_charp: {
        char *s = (char *)host_block_alloc(d, p.text.size() + 1, HostBlock::param, ("module_param " + p.name).c_str());
        if (!s) {
          *why = "no room in the driver's heap for parameter '" + p.name + "'";
          return false;
        }
        memcpy(s, p.text.data(), p.text.size());
        *(char **)p.var = s;
        break;
      }
    }
  }
  return true;
}

}  // namespace nooks
