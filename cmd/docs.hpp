// The reference pages of docs/, compiled in by cmake/docs.cmake, so that
// `diotorture help TOPIC` prints the same text the repository shows.
#pragma once

#include <vector>

namespace dt {

struct DocPage {
  const char* topic;  // path under docs/ without ".md": "commands/run", "cases"
  const char* text;   // the Markdown source
};

// Sorted by topic.
const std::vector<DocPage>& doc_pages();

}  // namespace dt
