// Lets one definition of per-element math serve host and device code.
#pragma once

#if defined(__CUDACC__)
#define SEQCNN_HD __host__ __device__ __forceinline__
#else
#define SEQCNN_HD inline
#endif
