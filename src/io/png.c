/* PNG sample grids with libpng (see include/collapse/image.h). */
#include "collapse/image.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

int col_png_grid(const char *path, const float *images, int n, int rows, int cols, int grid_cols,
                 float mean, float std, col_error *err)
{
    if (n <= 0 || grid_cols <= 0)
        return col_fail(err, "no images to write to %s", path);
    int grid_rows = (n + grid_cols - 1) / grid_cols;
    int width = grid_cols * (cols + 1) + 1, height = grid_rows * (rows + 1) + 1;
    unsigned char *pixels = col_calloc((size_t)width * height, 1, "PNG grid");
    for (int i = 0; i < n; i++) {
        int top = 1 + (i / grid_cols) * (rows + 1), left = 1 + (i % grid_cols) * (cols + 1);
        const float *img = images + (size_t)i * rows * cols;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) {
                float v = img[r * cols + c] * std + mean;
                v = fminf(fmaxf(v, 0.0f), 1.0f);
                pixels[(size_t)(top + r) * width + left + c] = (unsigned char)(v * 255.0f + 0.5f);
            }
    }
    /* mid-grey borders separate the cells */
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            if (y % (rows + 1) == 0 || x % (cols + 1) == 0)
                pixels[(size_t)y * width + x] = 96;

    FILE *f = fopen(path, "wb");
    if (!f) {
        free(pixels);
        return col_fail(err, "cannot create %s: %s", path, strerror(errno));
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep *row_pointers = col_malloc(sizeof(png_bytep) * (size_t)height, "PNG rows");
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        free(pixels);
        free(row_pointers);
        remove(path);
        return col_fail(err, "libpng failed writing %s", path);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    for (int y = 0; y < height; y++)
        row_pointers[y] = pixels + (size_t)y * width;
    png_set_rows(png, info, row_pointers);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    free(row_pointers);
    free(pixels);
    if (fclose(f) != 0)
        return col_fail(err, "writing %s failed: %s", path, strerror(errno));
    return 0;
}
