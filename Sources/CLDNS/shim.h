#ifndef MCDNS_CLDNS_SHIM_H
#define MCDNS_CLDNS_SHIM_H
#include <stdio.h>
#include <ldns/ldns.h>
#endif
