/* The collapse command line (being assembled; the run command follows). */
#include <stdio.h>

#include "collapse/version.h"

int main(void)
{
    fprintf(stderr, "collapse %s: the run command is not built yet\n", COLLAPSE_VERSION);
    return 1;
}
