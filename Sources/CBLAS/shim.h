// Types and prototypes only: the library is opened at run time by Tensor/BLASLibrary.swift.
#include <cblas.h>
#include "cpu_features.h"
