#ifndef BERTH_CLIBPQ_SHIM_H
#define BERTH_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
