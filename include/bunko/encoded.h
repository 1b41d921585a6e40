/*
 * bunko/encoded.h — an encoded image: a page picture as the PDF carries
 * it (CCITT G4, JPEG or zlib-compressed rows), made by the OCR stage's
 * image adapter (ocr/image.h: bk_image_encode, bk_encoded_from_jpeg) and
 * written by the PDF writer (archive/pdf.h), which needs no image library
 * for it.
 *
 * Ownership: the struct owns `data`; bk_encoded_image_release frees it.
 */
#ifndef BUNKO_ENCODED_H
#define BUNKO_ENCODED_H

#include <stddef.h>

enum bk_encoding { BK_ENC_G4 = 1, BK_ENC_JPEG, BK_ENC_FLATE };

struct bk_encoded_image {
	enum bk_encoding encoding;
	int width, height;
	int bits_per_component; /* 1 for G4, 8 otherwise */
	int components;         /* 1 gray, 3 RGB */
	int xres, yres;         /* dpi (>0: writer falls back to 300 if 0) */
	unsigned char *data;    /* owned */
	size_t size;
};

void bk_encoded_image_release(struct bk_encoded_image *enc);

#endif
