#pragma once
// The binary frame format between the server and its Python workers (see tamga_pyfunc_worker.py):
//   frame   = u32 payload length | u8 kind | payload
//   tensors = u32 count | per tensor: u16 name length, name, u8 dtype length, dtype (OIP name), u8 rank,
//             rank x i64 dims, u64 byte length, bytes (the Tensor layout: row-major little-endian)
// Pure functions; decoding validates every length against the buffer.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "serving/tensor.h"

namespace tamga::pyworker {

enum class FrameKind : uint8_t { kReady = 1, kPredict = 2, kResult = 3, kError = 4 };

constexpr size_t kFrameHeader = 5;
constexpr uint32_t kMaxFrame = 1u << 31;

// Header + payload of a frame.
std::string EncodeFrameHeader(FrameKind kind, size_t payload_size);
std::string EncodeTensors(const std::vector<Tensor>& tensors);
Result<std::vector<Tensor>> DecodeTensors(std::string_view payload);

// The embedded worker script (generated from tamga_pyfunc_worker.py at build time).
extern const char* const kWorkerScript;

}  // namespace tamga::pyworker
