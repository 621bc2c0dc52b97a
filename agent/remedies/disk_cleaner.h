// DiskCleaner: frees space on one file system by removing old files from listed
// directories, oldest first, only until the free share is back at a goal, and says what it
// removed (paths and bytes). Safety, all enforced with *at() calls on descriptors:
// - only regular files inside a listed directory whose name matches the rule's glob
//   (fnmatch) and whose mtime is older than the rule's age;
// - never following a symlink: the listed directory itself must not be one
//   (O_NOFOLLOW), links inside are neither followed nor removed;
// - never crossing to another file system: a listed directory not on the target's file
//   system is skipped, a mount point inside one is not entered;
// - each file is looked up again from its listed directory just before unlinkat, and
//   removed only if it is still the same regular file (device and inode);
// - bounded by a deadline, a depth (32) and a number of candidates (100000).
// Touches the real file system (not the Os seam); tests use a tmpfs or a temp dir.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace fleet {

struct CleanRule {
  std::string dir;  // absolute
  std::string glob = "*";
  std::chrono::seconds older_than{0};
};

struct RemovedFile {
  std::string path;
  std::uint64_t bytes = 0;  // space it took (allocated blocks)
};

struct CleanReport {
  std::vector<RemovedFile> removed;
  std::uint64_t bytes = 0;
  std::vector<std::string> problems;  // a listed directory missing, a symlink, unreadable...
  int rules_on_target = 0;            // listed directories on the target's file system
  bool reached = false;               // the free share is at the goal
  bool timed_out = false;
  double free_percent = 0;  // at the end, as df computes it: avail / (used + avail)
};

// Removes files under `rules` on the file system of `target` until its free share is at
// least `goal_free_percent`. `now` is the wall clock the ages are measured against.
CleanReport CleanOldestFirst(const std::vector<CleanRule>& rules, const std::string& target,
                             double goal_free_percent, std::chrono::system_clock::time_point now,
                             std::chrono::steady_clock::time_point deadline);

}  // namespace fleet
