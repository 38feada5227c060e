/* Pictures for people: PNG grids of images (libpng). */
#ifndef COLLAPSE_IMAGE_H
#define COLLAPSE_IMAGE_H

#include "collapse/common.h"

/*
 * Writes n images [n, rows * cols], stored normalized, as a grid PNG with grid_cols images
 * per row and a one-pixel border. Pixels are converted back with x * std + mean, clipped to
 * [0,1] and shown white on black. Returns 0 or -1 with a message.
 */
int col_png_grid(const char *path, const float *images, int n, int rows, int cols, int grid_cols,
                 float mean, float std, col_error *err);

#endif
