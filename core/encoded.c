/*
 * core/encoded.c — the encoded image's destructor (see bunko/encoded.h).
 */
#include "bunko/encoded.h"

#include <stdlib.h>
#include <string.h>

void bk_encoded_image_release(struct bk_encoded_image *enc)
{
	if (!enc)
		return;
	free(enc->data);
	memset(enc, 0, sizeof(*enc));
}
