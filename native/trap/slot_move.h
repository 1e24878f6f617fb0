// For the trap's assembly (mmio_x86_64.S, test/stub_body.S): one move between
// a register and its slot, `insn reg, slot` (to_slot=1) or `insn slot, reg`,
// so that one list of registers both saves and restores them.
#pragma once

.macro slot_move to_slot, insn, reg, slot
	.if \to_slot
	\insn \reg, \slot
	.else
	\insn \slot, \reg
	.endif
.endm
