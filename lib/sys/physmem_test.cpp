#include "lib/sys/physmem.hpp"

#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "lib/sys/sys.hpp"

namespace dt {
namespace {

TEST(ContiguousRuns, CountsBreaksInTheFrameSequence) {
  EXPECT_EQ(contiguous_runs({}), 0u);
  EXPECT_EQ(contiguous_runs({7}), 1u);
  EXPECT_EQ(contiguous_runs({10, 11, 12, 13}), 1u);
  EXPECT_EQ(contiguous_runs({10, 11, 40, 41, 42, 5}), 3u);
  // Adjacent frames in descending order do not merge into a segment.
  EXPECT_EQ(contiguous_runs({13, 12, 11, 10}), 4u);
  EXPECT_EQ(contiguous_runs({10, 10}), 2u);
}

TEST(PhysicalFrames, OnePerTouchedPageOrNothingWhenHidden) {
  const size_t page = page_size();
  AlignedBuffer buf(4 * page);
  std::memset(buf.data(), 1, buf.size());
  auto frames = physical_frames(buf.data(), buf.size());
  if (::geteuid() != 0) {
    // Without CAP_SYS_ADMIN the kernel reports frame 0: unknown, not a layout.
    EXPECT_FALSE(frames.has_value());
    return;
  }
  ASSERT_TRUE(frames.has_value());
  EXPECT_EQ(frames->size(), 4u);
  for (uint64_t f : *frames) EXPECT_NE(f, 0u);
  // A range that starts and ends inside pages covers each page once.
  auto inner = physical_frames(buf.data() + page / 2, page);
  ASSERT_TRUE(inner.has_value());
  EXPECT_EQ(*inner, std::vector<uint64_t>({(*frames)[0], (*frames)[1]}));
}

}  // namespace
}  // namespace dt
