import { Image } from "@cdktf/provider-docker/lib/image";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";

/**
 * One `docker_image` per distinct image reference in a stack, so the Docker host (local or
 * remote) pulls what it lacks and containers are replaced when an image reference changes.
 * Images are kept on destroy: other environments on the same host may use them. One per Docker
 * host: `provider` is that host's (unset: the stack's default provider).
 */
export class StackImages extends Construct {
  private readonly images = new Map<string, Image>();

  constructor(
    scope: Construct,
    id: string,
    private readonly provider?: TerraformProvider,
  ) {
    super(scope, id);
  }

  /** The image's ID, for a container's `image` attribute. */
  idOf(reference: string): string {
    let image = this.images.get(reference);
    if (!image) {
      const id = reference.replace(/[^A-Za-z0-9]+/g, "_");
      image = new Image(this, id, { name: reference, keepLocally: true, provider: this.provider });
      this.images.set(reference, image);
    }
    return image.imageId;
  }
}
