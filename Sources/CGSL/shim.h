// The GSL functions Rehearse uses, behind one header. GSL's default error handler aborts
// the process; rehearse_gsl_quiet() turns it off so that a bad argument returns NaN and
// Swift code can throw a typed error instead (GSL manual, "Error handling").
#ifndef REHEARSE_CGSL_SHIM_H
#define REHEARSE_CGSL_SHIM_H
#include <gsl/gsl_errno.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_sf_zeta.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_math.h>

static inline void rehearse_gsl_quiet(void) {
    gsl_set_error_handler_off();
}
#endif
