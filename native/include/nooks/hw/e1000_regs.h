/*
 * The Intel 8254x (82540EM) registers, bits and legacy descriptors that the
 * emulated NIC (e1000_model.cc) implements and the e1000 driver uses, from
 * the PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's
 * Manual. C, shared by the model and the driver.
 */
#ifndef NOOKS_E1000_REGS_H
#define NOOKS_E1000_REGS_H

#define E1000_VENDOR_INTEL 0x8086
#define E1000_DEV_82540EM 0x100e
#define E1000_BAR0_SIZE 0x20000	/* 128 KiB of registers */

/* registers: byte offsets into BAR 0, 32-bit accesses */
#define E1000_CTRL	0x0000
#define E1000_STATUS	0x0008
#define E1000_EECD	0x0010
#define E1000_EERD	0x0014
#define E1000_CTRL_EXT	0x0018
#define E1000_MDIC	0x0020
#define E1000_ICR	0x00c0	/* read clears */
#define E1000_ITR	0x00c4
#define E1000_ICS	0x00c8
#define E1000_IMS	0x00d0
#define E1000_IMC	0x00d8
#define E1000_RCTL	0x0100
#define E1000_TCTL	0x0400
#define E1000_TIPG	0x0410
#define E1000_RDBAL	0x2800
#define E1000_RDBAH	0x2804
#define E1000_RDLEN	0x2808
#define E1000_RDH	0x2810
#define E1000_RDT	0x2818
#define E1000_RDTR	0x2820
#define E1000_RADV	0x282c
#define E1000_TDBAL	0x3800
#define E1000_TDBAH	0x3804
#define E1000_TDLEN	0x3808
#define E1000_TDH	0x3810
#define E1000_TDT	0x3818
#define E1000_TIDV	0x3820
#define E1000_TADV	0x382c
#define E1000_CRCERRS	0x4000	/* statistics: 0x4000..0x40fc, read clears (saturating) */
#define E1000_STATS_END	0x4100
#define E1000_MPC	0x4010	/* missed: no receive descriptor */
#define E1000_PRC64	0x405c	/* received by size (FCS included): 64, 65-127, ... 1023-1522 */
#define E1000_GPRC	0x4074
#define E1000_BPRC	0x4078
#define E1000_MPRC	0x407c
#define E1000_GPTC	0x4080
#define E1000_GORCL	0x4088	/* 64-bit counters: reading the high half clears both */
#define E1000_GORCH	0x408c
#define E1000_GOTCL	0x4090
#define E1000_GOTCH	0x4094
#define E1000_RNBC	0x40a0	/* receive: no buffers */
#define E1000_TORL	0x40c0
#define E1000_TORH	0x40c4
#define E1000_TOTL	0x40c8
#define E1000_TOTH	0x40cc
#define E1000_TPR	0x40d0
#define E1000_TPT	0x40d4
#define E1000_PTC64	0x40d8	/* transmitted by size, as PRC64.. */
#define E1000_MPTC	0x40f0
#define E1000_BPTC	0x40f4
#define E1000_MTA	0x5200	/* 128 registers: the multicast hash table */
#define E1000_RAL(n)	(0x5400 + 8 * (n))	/* 16 receive addresses */
#define E1000_RAH(n)	(0x5404 + 8 * (n))

#define E1000_CTRL_FD		(1u << 0)
#define E1000_CTRL_ASDE		(1u << 5)
#define E1000_CTRL_SLU		(1u << 6)	/* set link up */
#define E1000_CTRL_RST		(1u << 26)	/* self-clearing */
#define E1000_CTRL_PHY_RST	(1u << 31)

#define E1000_STATUS_FD		(1u << 0)
#define E1000_STATUS_LU		(1u << 1)
#define E1000_STATUS_SPEED_1000	(2u << 6)
#define E1000_STATUS_ASDV_1000	(2u << 8)	/* the speed auto-detection found */

#define E1000_EECD_PRES		(1u << 8)
#define E1000_EERD_START	(1u << 0)
#define E1000_EERD_DONE		(1u << 4)	/* 8254x: DONE at bit 4, address at 15:8 */
#define E1000_EERD_ADDR_SHIFT	8
#define E1000_EERD_DATA_SHIFT	16
#define E1000_EEPROM_WORDS	64
#define E1000_EEPROM_SUM	0xbaba	/* words 0x00..0x3f add up to this */

#define E1000_ICR_TXDW		(1u << 0)
#define E1000_ICR_TXQE		(1u << 1)
#define E1000_ICR_LSC		(1u << 2)
#define E1000_ICR_RXDMT0	(1u << 4)
#define E1000_ICR_RXO		(1u << 6)
#define E1000_ICR_RXT0		(1u << 7)

#define E1000_RCTL_EN		(1u << 1)
#define E1000_RCTL_SBP		(1u << 2)
#define E1000_RCTL_UPE		(1u << 3)	/* unicast promiscuous */
#define E1000_RCTL_MPE		(1u << 4)	/* multicast promiscuous */
#define E1000_RCTL_LPE		(1u << 5)	/* long packets */
#define E1000_RCTL_MO_SHIFT	12
#define E1000_RCTL_BAM		(1u << 15)	/* broadcast accept */
#define E1000_RCTL_SZ_2048	(0u << 16)
#define E1000_RCTL_SZ_1024	(1u << 16)
#define E1000_RCTL_SZ_512	(2u << 16)
#define E1000_RCTL_SZ_256	(3u << 16)
#define E1000_RCTL_SZ_16384	((1u << 16) | (1u << 25))	/* with BSEX */
#define E1000_RCTL_SZ_8192	((2u << 16) | (1u << 25))
#define E1000_RCTL_SZ_4096	((3u << 16) | (1u << 25))
#define E1000_RCTL_BSEX		(1u << 25)
#define E1000_RCTL_SECRC	(1u << 26)	/* strip the CRC */

#define E1000_TCTL_EN		(1u << 1)
#define E1000_TCTL_PSP		(1u << 3)
#define E1000_TCTL_CT_SHIFT	4
#define E1000_TCTL_COLD_SHIFT	12

#define E1000_RAH_AV		(1u << 31)

/* MDIC: the PHY's registers (MII), read and written through the MAC */
#define E1000_MDIC_DATA_MASK	0xffffu
#define E1000_MDIC_REG_SHIFT	16
#define E1000_MDIC_PHY_SHIFT	21
#define E1000_MDIC_OP_WRITE	(1u << 26)
#define E1000_MDIC_OP_READ	(2u << 26)
#define E1000_MDIC_READY	(1u << 28)
#define E1000_MDIC_INT_EN	(1u << 29)
#define E1000_MDIC_ERROR	(1u << 30)
#define E1000_PHY_ADDR		1	/* the internal PHY's address */
#define E1000_ICR_MDAC		(1u << 9)	/* MDI/O access complete */
/* PHY registers: MII control and status, the IDs (Marvell 88E1011-compatible), 1000BASE-T, PHY specific status */
#define MII_BMCR		0x00
#define MII_BMSR		0x01
#define MII_PHYID1		0x02
#define MII_PHYID2		0x03
#define MII_ANAR		0x04
#define MII_ANLPAR		0x05
#define MII_CTRL1000		0x09
#define MII_STAT1000		0x0a
#define M88_PHY_SPEC_CTRL	0x10
#define M88_PHY_SPEC_STATUS	0x11
#define MII_BMCR_RESTART_AN	(1u << 9)
#define MII_BMCR_RESET		(1u << 15)
#define MII_BMSR_LINK		(1u << 2)
#define MII_BMSR_AN_COMPLETE	(1u << 5)
#define M88_PSSR_LINK		(1u << 10)

/* legacy descriptors: 16 bytes, rings of multiples of 8 (RDLEN/TDLEN multiples of 128) */
struct e1000_rx_desc {
	u64 buffer_addr;
	u16 length;
	u16 csum;
	u8 status;
	u8 errors;
	u16 special;
};
#define E1000_RXD_STAT_DD	(1u << 0)
#define E1000_RXD_STAT_EOP	(1u << 1)
#define E1000_RXD_STAT_IXSM	(1u << 2)	/* no checksum computed: ignore the checksum bits */
#define E1000_RXD_ERR_RXE	(1u << 7)

struct e1000_tx_desc {
	u64 buffer_addr;
	u16 length;
	u8 cso;
	u8 cmd;
	u8 status;
	u8 css;
	u16 special;
};
#define E1000_TXD_CMD_EOP	(1u << 0)
#define E1000_TXD_CMD_IFCS	(1u << 1)
#define E1000_TXD_CMD_RS	(1u << 3)
#define E1000_TXD_CMD_DEXT	(1u << 5)
#define E1000_TXD_STAT_DD	(1u << 0)

#endif
