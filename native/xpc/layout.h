// Field offsets shared by the crossing routines (xpc_x86_64.S) and the C++
// structures they touch (xpc.h checks them with static_assert).
#pragma once

// struct EntryFrame: one per active host->driver entry, on the host stack
#define EF_HOST_SP 0     // host rsp after the entry routine saved its registers
#define EF_ORIG_PKRU 8   // PKRU of the host code that entered (restored on exit)
#define EF_DT 16         // the DomainThread entered
#define EF_CALL 24       // the XpcCall being made

// struct DomainThread: one per (thread, domain)
#define DT_SP 0          // where the next entry into this domain starts on its stack
#define DT_PKRU 8        // PKRU while this thread runs the domain's code

// struct ThreadCtx: one per thread that enters domains
#define TC_HOST_PKRU 0   // PKRU for kernel code running in an upcall
#define TC_TOP 8         // innermost EntryFrame
#define TC_ABORT_DOMAIN 44  // the domain this thread is asked to leave, or -1 (int)

// struct XpcCall: what to call and its result
#define XC_FN 0
#define XC_ARGS 8        // six arguments
#define XC_RET 56
