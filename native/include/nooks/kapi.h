/*
 * nooks kernel API for drivers: the only header a driver needs.
 *
 * A driver is ordinary C written as for Linux, built as a shared object that
 * links against nothing: every call below is bound by the loader to a wrapper
 * that checks its arguments, crosses back into the kernel (host) domain and
 * records the objects the driver holds, so that a failed driver can be
 * cleaned up and restarted. The same binary runs unisolated and isolated.
 *
 * Rules of the road (the loader and the wrappers enforce them):
 *  - no libc: use the string/format helpers declared here (linked into the
 *    driver from native/driver-rt, they run inside the driver's domain);
 *  - memory the kernel hands back (kmalloc, DMA) lives in the driver's domain;
 *    pointers the driver passes to the kernel must point into that domain;
 *  - callbacks (timers, work, irq handlers) must be functions of the driver.
 */
#ifndef NOOKS_KAPI_H
#define NOOKS_KAPI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
typedef unsigned int gfp_t;
typedef u64 dma_addr_t;
#ifndef __cplusplus
typedef _Bool bool;
#define true 1
#define false 0
#endif

#define GFP_KERNEL 0u
#define GFP_ATOMIC 1u

/* errno values, returned negated as in Linux */
#define EPERM 1
#define ENOENT 2
#define EIO 5
#define ENOMEM 12
#define EBUSY 16
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ETIMEDOUT 110

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define unlikely(x) __builtin_expect(!!(x), 0)
#define likely(x) __builtin_expect(!!(x), 1)

/* ---- module entry points -------------------------------------------------
 * module_init(fn): fn runs when the driver loads and again after every
 * recovery (on a clean copy of the driver's data). Returns 0 or -errno.
 * module_exit(fn): fn runs when the driver is unloaded normally.
 * NOOKS_EXPORT marks a plain function the host may call (tests, tools):
 * up to six integer or pointer arguments, returning an integer. */
#ifdef __cplusplus
#define NOOKS_EXPORT extern "C" __attribute__((visibility("default"), used))	/* found by its C name */
#else
#define NOOKS_EXPORT __attribute__((visibility("default"), used))
#endif
#define module_init(fn) \
	NOOKS_EXPORT int nooks_module_init(void) { return fn(); }
#define module_exit(fn) \
	NOOKS_EXPORT void nooks_module_exit(void) { fn(); }

#define MODULE_LICENSE(s)
#define MODULE_DESCRIPTION(s)
#define MODULE_AUTHOR(s)

/* ---- the kernel-API version ----------------------------------------------
 * Every object that includes this header carries the version of the kernel
 * API it was compiled against (NOOKS_KAPI_VERSION, generated), as an ELF
 * note named "nooks": the loader refuses a driver built against another
 * version (EABI) and warns about one that carries none. */
#include <nooks/abi.h>
#define NOOKS_NOTE_KAPI_VERSION 1	/* the note's type */
#ifndef NOOKS_HOST
static const struct {
	u32 namesz, descsz, type;
	char name[8];
	char desc[(sizeof(NOOKS_KAPI_VERSION) + 3) & ~3u];
} nooks_kapi_note __attribute__((section(".note.nooks"), aligned(4), used)) = {
	sizeof("nooks"), sizeof(NOOKS_KAPI_VERSION), NOOKS_NOTE_KAPI_VERSION, "nooks", NOOKS_KAPI_VERSION,
};
#endif

/* ---- load parameters ------------------------------------------------------
 * As Linux's: a static variable the host sets at load,
 * kernel.load(path, { params: { name: value } }), before module_init runs and
 * again before it runs after every recovery. Unset, it keeps its initializer.
 *   static int queue_len = 8;          module_param(queue_len, int, 0444);
 *   static char *label = "default";    module_param(label, charp, 0444);
 * Types: int (32-bit), long (64-bit), bool, charp (a NUL-terminated string the
 * kernel places in the driver's heap, held for it; do not kfree it). The
 * loader reads the declarations from the section .nooks_params and refuses an
 * unknown name, a value of the wrong type or out of the type's range (EPARAM).
 * `perm` is accepted for source compatibility (there is no sysfs here). */
enum { NOOKS_PARAM_int = 1, NOOKS_PARAM_long = 2, NOOKS_PARAM_bool = 3, NOOKS_PARAM_charp = 4 };
struct nooks_param {
	const char *name;
	void *var;
	u32 type;	/* NOOKS_PARAM_* */
	u32 size;	/* sizeof the variable */
};
typedef int nooks_param_type_int;
typedef long nooks_param_type_long;
typedef bool nooks_param_type_bool;
typedef char *nooks_param_type_charp;
#ifndef __cplusplus
#define NOOKS_PARAM_CHECK(name, type) \
	_Static_assert(__builtin_types_compatible_p(__typeof__(name), nooks_param_type_##type), \
		       "module_param(" #name ", " #type "): the variable is not of type " #type);
#else
#define NOOKS_PARAM_CHECK(name, type)
#endif
#define module_param(name, type, perm) \
	NOOKS_PARAM_CHECK(name, type) \
	static const struct nooks_param nooks_param_##name \
		__attribute__((used, section(".nooks_params"), aligned(8))) = \
		{ #name, (void *)&(name), NOOKS_PARAM_##type, sizeof(name) }
#define MODULE_PARM_DESC(name, desc)

/* ---- locks: they live in driver memory; the kernel tracks who holds them */
typedef struct { volatile u32 locked; u32 owner; } spinlock_t;
struct mutex { volatile u32 locked; u32 owner; u32 waiters; };
#define DEFINE_SPINLOCK(x) spinlock_t x = { 0, 0 }
#define DEFINE_MUTEX(x) struct mutex x = { 0, 0, 0 }
/* interrupts run on their own threads here, so the irqsave forms only lock */
#define spin_lock_irqsave(lock, flags) do { (flags) = 0; spin_lock(lock); } while (0)
#define spin_unlock_irqrestore(lock, flags) do { (void)(flags); spin_unlock(lock); } while (0)
#define spin_lock_bh spin_lock
#define spin_unlock_bh spin_unlock

/* ---- time ---------------------------------------------------------------- */
#define HZ 1000
#define jiffies nooks_jiffies()
#define msecs_to_jiffies(ms) ((unsigned long)(ms))
#define time_after(a, b) ((long)((b) - (a)) < 0)
#define time_before(a, b) time_after(b, a)

struct timer_list {
	void (*function)(struct timer_list *);
	unsigned long expires;
	unsigned int flags;
};
#define from_timer(var, timer, field) container_of(timer, __typeof__(*var), field)
#define del_timer_sync del_timer

/* ---- deferred work ------------------------------------------------------- */
struct work_struct {
	void (*func)(struct work_struct *);
	unsigned long pending;
};
#define INIT_WORK(work, fn) nooks_init_work((work), (fn))

/* ---- interrupts ---------------------------------------------------------- */
typedef enum { IRQ_NONE = 0, IRQ_HANDLED = 1, IRQ_WAKE_THREAD = 2 } irqreturn_t;
typedef irqreturn_t (*irq_handler_t)(int irq, void *dev_id);
#define IRQF_SHARED 0x80ul

/* ---- devices and DMA -----------------------------------------------------
 * struct device and struct pci_dev are kernel objects: a driver reads them
 * (they are in memory it may read) and changes them only through calls. */
struct device {
	const char *name;
};

struct pci_device_id {
	u16 vendor, device;	/* a { 0, 0 } entry ends the table */
};

struct pci_dev {
	u16 vendor, device;
	unsigned int irq;	/* the interrupt line, for request_irq */
	struct device dev;	/* for dma_alloc_coherent */
	char address[16];	/* DDDD:BB:DD.F, as Linux's pci_name() gives it */
};

struct pci_driver {
	const char *name;
	const struct pci_device_id *id_table;
	int (*probe)(struct pci_dev *pdev, const struct pci_device_id *id);
	void (*remove)(struct pci_dev *pdev);
};

#define PCI_DEVICE(v, d) { (v), (d) }

/* module_pci_driver(drv): a driver that does nothing at load but register
 * drv, and nothing at unload but unregister it (as Linux's, whose names for
 * the two functions it defines, __drv_init and __drv_exit, it keeps). */
#define module_pci_driver(drv) \
	static int __##drv##_init(void) { return pci_register_driver(&(drv)); } \
	static void __##drv##_exit(void) { pci_unregister_driver(&(drv)); } \
	module_init(__##drv##_init); \
	module_exit(__##drv##_exit)

/* ---- register access ------------------------------------------------------
 * As Linux's iomap: an address at or above NOOKS_IOMEM_EMU_BASE is a cookie
 * for a register of an emulated device (the device model answers, through a
 * crossing); any other address is a mapped BAR (UIO/VFIO), accessed directly. */
#define NOOKS_IOMEM_EMU_BASE 0xffffc90000000000ul
#define nooks_is_emu_io(a) ((unsigned long)(a) >= NOOKS_IOMEM_EMU_BASE)
#define __iomem

/* A load or store a driver made in an emulated device's BAR that it mapped
 * with mmap (MMIO trap-and-emulate: native/trap/mmio.cc), as the fault
 * handler decoded it. Built on the driver's stack; the trap's stub hands it to
 * nooks_mmio_emulate, which performs the access and sets the destination
 * register. Drivers never build one themselves. */
struct nooks_mmio_frame {
	u8 vector[2624];	/* the vector registers, saved by the stub */
	u64 addr;		/* the access's address */
	u64 value;		/* a store: what it writes */
	u64 rip;		/* the trapped instruction */
	u8 width;		/* bytes: 1, 2, 4, 8 */
	u8 store;
	u8 reg;			/* a load: the destination register (encoding order) */
	u8 high8;		/* ... AH, CH, DH or BH */
	u8 dest_width;		/* ... its width in bytes */
	u8 extend;		/* ... 0: none, 1: zero, 2: sign */
	u8 pad[2];
	u64 gpr[16];		/* rax rcx rdx rbx rsp rbp rsi rdi r8-r15, as the stub restores them */
	u64 rflags;
	u64 resume_sp;		/* where the stub returns from: the next instruction's address */
};

/* ---- log ----------------------------------------------------------------- */
#define KERN_EMERG "<0>"
#define KERN_ALERT "<1>"
#define KERN_CRIT "<2>"
#define KERN_ERR "<3>"
#define KERN_WARNING "<4>"
#define KERN_NOTICE "<5>"
#define KERN_INFO "<6>"
#define KERN_DEBUG "<7>"
/* printk formats inside the driver (%d %i %u %o %x %X %b %p %s %c %f %e %g with
 * the length modifiers hh h l ll q j z t L, flags - 0 # + space ', width and
 * precision, arguments by number %N$; native/driver-rt/format.c) and hands
 * the line to the kernel. */
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define pr_err(...) printk(KERN_ERR __VA_ARGS__)
#define pr_warn(...) printk(KERN_WARNING __VA_ARGS__)
#define pr_info(...) printk(KERN_INFO __VA_ARGS__)
#define pr_debug(...) printk(KERN_DEBUG __VA_ARGS__)

/* ---- string and format helpers (native/driver-rt, inside the domain) -----
 * The kernel itself (NOOKS_HOST) uses libc's. */
#ifndef NOOKS_HOST
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
size_t strscpy(char *dst, const char *src, size_t size);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
#endif

/* ---- kernel calls (generated from lib/wrappers/kapi.ts) ------------------ */
#include <nooks/kapi_calls.h>

static inline u32 ioread32(const volatile void __iomem *addr)
{
	return nooks_is_emu_io(addr) ? nooks_io_read(addr, 4) : *(const volatile u32 *)addr;
}
static inline u16 ioread16(const volatile void __iomem *addr)
{
	return nooks_is_emu_io(addr) ? (u16)nooks_io_read(addr, 2) : *(const volatile u16 *)addr;
}
static inline u8 ioread8(const volatile void __iomem *addr)
{
	return nooks_is_emu_io(addr) ? (u8)nooks_io_read(addr, 1) : *(const volatile u8 *)addr;
}
static inline void iowrite32(u32 v, volatile void __iomem *addr)
{
	if (nooks_is_emu_io(addr)) nooks_io_write(addr, v, 4); else *(volatile u32 *)addr = v;
}
static inline void iowrite16(u16 v, volatile void __iomem *addr)
{
	if (nooks_is_emu_io(addr)) nooks_io_write(addr, v, 2); else *(volatile u16 *)addr = v;
}
static inline void iowrite8(u8 v, volatile void __iomem *addr)
{
	if (nooks_is_emu_io(addr)) nooks_io_write(addr, v, 1); else *(volatile u8 *)addr = v;
}
#define readl ioread32
#define writel(v, a) iowrite32((v), (a))

#ifdef __cplusplus
}
#endif
#endif
