#ifndef RECORDONCE_CLIBXML2_SHIM_H
#define RECORDONCE_CLIBXML2_SHIM_H
/* libxml2's ICU types clash with Foundation's in any module that imports both: turn them off. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>
/* xmlFree is a global function pointer, which Swift 6 rejects as not concurrency-safe. */
static inline void ro_xml_free(void *p) { xmlFree(p); }
#endif
