// XXH3 (Debian libxxhash-dev): the body check of blob frames from version 2 (Store/BlobFrame.swift).
#include <xxhash.h>
