/* Calls the no_std static library from C, so the check also proves the code runs. */
#include <stdint.h>
#include <stdio.h>

uint32_t rfc6455_no_std_check(void);

int main(void) {
    uint32_t step = rfc6455_no_std_check();
    if (step != 0) {
        fprintf(stderr, "rfc6455 no_std check failed at step %u\n", step);
        return 1;
    }
    puts("rfc6455 no_std check: ok");
    return 0;
}
