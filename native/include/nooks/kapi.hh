/*
 * <nooks/kapi.hh>: the kernel API for a driver in C++. It includes
 * <nooks/kapi.h> and adds, in namespace nooks, the RAII helpers a C++ driver
 * wants, each of which releases what it holds when it goes, on every path
 * out (an early return, the destructor of the object it is a member of):
 *
 *   SpinGuard, MutexGuard      a spinlock or a mutex held for a scope
 *   Mmio                       a BAR mapped for the object's life, its
 *                              registers read and written 8, 16 or 32 bits wide
 *   DmaBuffer<T>               an array of T in coherent DMA memory
 *   probe_device<Device>,      a PCI driver's probe and remove for a device
 *   remove_device<Device>      that is an object: made, started, kept, deleted
 *
 * Header-only: no exceptions, no RTTI, nothing to link. Its classes have
 * constructors, so none may be a global object of a kernel-API driver (the
 * loader refuses constructors: ECTOR): make them members of an object made in
 * probe or module_init. Not part of the kernel-API version (lib/wrappers/abi.ts
 * digests the .h headers): it adds no call and no layout the kernel reads.
 * docs/drivers.md, "C++ drivers".
 */
#ifndef NOOKS_KAPI_HH
#define NOOKS_KAPI_HH

#ifndef __cplusplus
#error "<nooks/kapi.hh> is for drivers in C++ (its helpers are classes); a C driver includes <nooks/kapi.h>"
#else

#include <nooks/kapi.h>

#include <new>

namespace nooks {

/* A lock held for a scope: taken at construction, released on every path out of the scope. */
template <typename Lock, void (*take)(Lock *), void (*give)(Lock *)>
class ScopedLock {
public:
	explicit ScopedLock(Lock &lock) : lock_(lock) { take(&lock_); }
	~ScopedLock() { give(&lock_); }
	ScopedLock(const ScopedLock &) = delete;
	ScopedLock &operator=(const ScopedLock &) = delete;

private:
	Lock &lock_;
};

using SpinGuard = ScopedLock<spinlock_t, spin_lock, spin_unlock>;
using MutexGuard = ScopedLock<struct mutex, mutex_lock, mutex_unlock>;	/* sleeps while another holds it */

/* BAR `bar` of a PCI device, mapped (pci_iomap) for the object's life: its registers by offset. */
class Mmio {
public:
	/* Maps the BAR's first `maxlen` bytes (0: all of it); mapped() says whether it could. */
	explicit Mmio(pci_dev *pdev, int bar = 0, unsigned long maxlen = 0)
		: pdev_(pdev), base_(static_cast<u8 __iomem *>(pci_iomap(pdev, bar, maxlen))) {}
	~Mmio()
	{
		if (base_)
			pci_iounmap(pdev_, base_);
	}
	Mmio(const Mmio &) = delete;
	Mmio &operator=(const Mmio &) = delete;

	bool mapped() const { return base_ != nullptr; }
	u8 read8(u32 offset) const { return ioread8(base_ + offset); }
	u16 read16(u32 offset) const { return ioread16(base_ + offset); }
	u32 read32(u32 offset) const { return ioread32(base_ + offset); }
	void write8(u32 offset, u8 value) { iowrite8(value, base_ + offset); }
	void write16(u32 offset, u16 value) { iowrite16(value, base_ + offset); }
	void write32(u32 offset, u32 value) { iowrite32(value, base_ + offset); }

private:
	pci_dev *pdev_;
	u8 __iomem *base_;
};

/*
 * An array of T in coherent DMA memory (dma_alloc_coherent: the device reads
 * or writes it at bus()), freed with its owner or when another replaces it.
 */
template <typename T>
class DmaBuffer {
public:
	explicit DmaBuffer(pci_dev *pdev) : pdev_(pdev) {}	/* none yet: allocate() makes it */
	DmaBuffer(pci_dev *pdev, size_t count) : pdev_(pdev) { allocate(count); }
	~DmaBuffer() { release(); }
	DmaBuffer(const DmaBuffer &) = delete;
	DmaBuffer &operator=(const DmaBuffer &) = delete;

	/* Frees the array there is and allocates one of `count` T: false if there is no memory for it. */
	bool allocate(size_t count)
	{
		release();
		data_ = static_cast<T *>(dma_alloc_coherent(&pdev_->dev, count * sizeof(T), &bus_, GFP_KERNEL));
		count_ = data_ ? count : 0;
		return data_ != nullptr;
	}
	void release()
	{
		if (data_)
			dma_free_coherent(&pdev_->dev, bytes(), data_, bus_);
		data_ = nullptr;
		count_ = 0;
	}

	bool allocated() const { return data_ != nullptr; }
	size_t count() const { return count_; }
	size_t bytes() const { return count_ * sizeof(T); }
	T *data() { return data_; }
	T &operator[](size_t i) { return data_[i]; }
	const T &operator[](size_t i) const { return data_[i]; }
	dma_addr_t bus(size_t i = 0) const { return bus_ + i * sizeof(T); }	/* element i's bus address */
	void clear() { memset(data_, 0, bytes()); }

private:
	pci_dev *pdev_;
	T *data_ = nullptr;
	size_t count_ = 0;
	dma_addr_t bus_ = 0;
};

/*
 * A PCI driver's probe for a device that is an object of class Device: makes
 * a Device(pdev), calls its start(args...) and, if that returns 0, keeps it as
 * pdev's drvdata for remove_device. Returns 0; -ENOMEM without memory for it;
 * or start's error, the object deleted: its destructor undoes what start did,
 * whichever step it got to.
 */
template <typename Device, typename... Args>
int probe_device(pci_dev *pdev, Args &&...args)
{
	Device *dev = new (std::nothrow) Device(pdev);
	if (!dev)
		return -ENOMEM;
	if (int err = dev->start(static_cast<Args &&>(args)...)) {
		delete dev;
		return err;
	}
	pci_set_drvdata(pdev, dev);
	return 0;
}

/* The driver's remove: deletes the Device probe_device kept (its destructor undoes what start did). */
template <typename Device>
void remove_device(pci_dev *pdev)
{
	delete static_cast<Device *>(pci_get_drvdata(pdev));
}

}  // namespace nooks

#endif	/* __cplusplus */
#endif
