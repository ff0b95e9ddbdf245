// glibc's allocator controls (mallopt), which Swift's Glibc module does not import.
// Used by Glossa/AllocatorTuning.swift.
#pragma once
#include <malloc.h>
