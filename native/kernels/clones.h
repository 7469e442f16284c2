// Function multiversioning for the elementwise loops over a worker's slice of the parameters (the
// optimizer steps, the sum over the gradient slots): they run once per step on every parameter,
// and compiled for the SSE2 baseline they issue four times the instructions that an AVX-512 core
// needs, enough to make them instruction-bound in L2. x86-64 builds carry AVX-512 and AVX2 clones
// of such a function, which the loader picks from the CPU's features (GCC/Clang target_clones);
// the loops are plain C++ that each clone vectorizes at its width.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FCNN_WIDE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FCNN_WIDE_CLONES
#endif
