/*
 * ticker: a well-behaved driver that keeps busy on every kind of kernel
 * object (heap, timer, work, irq, spinlock, DMA), so the tests can check it
 * goes on working while crashy fails beside it.
 */
#include <nooks/kapi.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Counts timer ticks, work runs and interrupts");

#define TICKER_IRQ	5
#define TICK_MS		10
#define WORK_EVERY	5	/* ticks per work item */
#define DMA_SIZE	4096

struct ticker {
	spinlock_t lock;	/* protects the counters and stopping */
	unsigned long ticks;
	unsigned long works;
	unsigned long irqs;
	bool stopping;
	struct timer_list timer;
	struct work_struct work;
	u8 *dma;
	dma_addr_t dma_handle;
};

static struct ticker *tk;

static void ticker_timer(struct timer_list *t)
{
	struct ticker *s = from_timer(s, t, timer);
	bool kick;

	spin_lock(&s->lock);
	s->ticks++;
	kick = s->ticks % WORK_EVERY == 0;
	/* re-arm under the lock: exit sets stopping under it before del_timer */
	if (!s->stopping)
		mod_timer(&s->timer, jiffies + msecs_to_jiffies(TICK_MS));
	spin_unlock(&s->lock);
	if (kick)
		schedule_work(&s->work);
}

static void ticker_work(struct work_struct *w)
{
	struct ticker *s = container_of(w, struct ticker, work);

	spin_lock(&s->lock);
	s->works++;
	spin_unlock(&s->lock);
}

static irqreturn_t ticker_irq(int irq, void *dev_id)
{
	struct ticker *s = dev_id;

	(void)irq;
	spin_lock(&s->lock);
	s->irqs++;
	spin_unlock(&s->lock);
	return IRQ_HANDLED;
}

static long read_counter(unsigned long *c)
{
	long v;

	spin_lock(&tk->lock);
	v = (long)*c;
	spin_unlock(&tk->lock);
	return v;
}

NOOKS_EXPORT long ticks(void)
{
	return read_counter(&tk->ticks);
}

NOOKS_EXPORT long works(void)
{
	return read_counter(&tk->works);
}

NOOKS_EXPORT long irqs(void)
{
	return read_counter(&tk->irqs);
}

NOOKS_EXPORT long echo(long x)
{
	return x;
}

NOOKS_EXPORT long sum(long a, long b, long c, long d, long e, long f)
{
	return a + b + c + d + e + f;
}

/*
 * Write n bytes (at most a page) of a pattern into a DMA page allocated on
 * first use; return the sum of the bytes as read back.
 */
NOOKS_EXPORT long fill_dma(long n)
{
	long i, csum = 0;

	if (n < 0 || n > DMA_SIZE)
		return -EINVAL;
	if (!tk->dma) {
		tk->dma = dma_alloc_coherent(NULL, DMA_SIZE, &tk->dma_handle, GFP_KERNEL);
		if (!tk->dma)
			return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		tk->dma[i] = (u8)(i * 7 + 1);
	for (i = 0; i < n; i++)
		csum += tk->dma[i];
	return csum;
}

/* Returns the number of characters logged: 20 for "<6>ticker: hello 42\n". */
NOOKS_EXPORT long print_hello(void)
{
	return printk(KERN_INFO "ticker: hello %d\n", 42);
}

static int ticker_init(void)
{
	int err;

	tk = kzalloc(sizeof(*tk), GFP_KERNEL);
	if (!tk)
		return -ENOMEM;
	spin_lock_init(&tk->lock);
	INIT_WORK(&tk->work, ticker_work);
	timer_setup(&tk->timer, ticker_timer, 0);

	err = request_irq(TICKER_IRQ, ticker_irq, 0, "ticker", tk);
	if (err)
		goto fail;
	mod_timer(&tk->timer, jiffies + msecs_to_jiffies(TICK_MS));
	return 0;

fail:
	del_timer(&tk->timer);
	cancel_work_sync(&tk->work);
	kfree(tk);
	tk = NULL;
	return err;
}

static void ticker_exit(void)
{
	free_irq(TICKER_IRQ, tk);

	spin_lock(&tk->lock);
	tk->stopping = true;
	spin_unlock(&tk->lock);
	del_timer(&tk->timer);
	/* the timer can no longer queue it */
	cancel_work_sync(&tk->work);

	if (tk->dma)
		dma_free_coherent(NULL, DMA_SIZE, tk->dma, tk->dma_handle);
	kfree(tk);
	tk = NULL;
}

module_init(ticker_init);
module_exit(ticker_exit);
