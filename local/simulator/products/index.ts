/** Each task kind's rules (the simulator's own, from Kling's pages): the one place a create body is checked. */
import type { CreateValidation } from "../accepted";
import type { SimulatorTaskKind } from "../endpoints";
import { validateCreateBody } from "../validation";
import { validateNewCreateBody } from "../validation-v2";
import { validateAvatar } from "./avatar";
import type { ProductContext } from "./context";
import { validateEffects } from "./effects";
import { validateLipSync } from "./lip-sync";
import { validateMotionControl } from "./motion-control";
import { validateOmni } from "./omni";
import { validateVideoExtend } from "./video-extend";
import { validateVideoToAudio } from "./video-to-audio";

/** `model`: the new standard's path segment (the legacy standard names it in the body, if at all). */
export function validateCreate(kind: SimulatorTaskKind, model: string, body: unknown, context: ProductContext): CreateValidation {
  switch (kind) {
    case "text2video":
    case "image2video":
      return validateCreateBody(kind, body);
    case "text-to-video":
    case "image-to-video":
      return validateNewCreateBody(kind, model, body);
    case "omni-video":
      return validateOmni(model, body, context);
    case "motion-control":
      return validateMotionControl(model, body, context);
    case "avatar":
      return validateAvatar(body, context);
    case "advanced-lip-sync":
      return validateLipSync(body, context);
    case "effects":
      return validateEffects(body);
    case "video-extend":
      return validateVideoExtend(body, context);
    case "video-to-audio":
      return validateVideoToAudio(body, context);
  }
}
