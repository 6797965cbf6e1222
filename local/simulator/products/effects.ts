/**
 * Video effects (legacy): `POST /v1/videos/effects`, as Kling's "Video Effects" page describes it:
 * one of the scenes it lists in `effect_scene`, and `input.image` (single-image scenes) or
 * `input.images` (two images, dual-image scenes). The page gives no duration and no price: the
 * simulator makes a 5 s video and charges it by its convention (kling-tables.ts).
 */
import { refuse, type CreateValidation } from "../accepted";
import { isRecord } from "../json";
import { EFFECT_RATES_MODEL, EFFECT_SECONDS, videoUnits } from "../kling-tables";
import { imageProblemOf, legacyOptions, unknownField } from "./inputs";

/** The dual-image scenes (15), from Kling's page. */
export const DUAL_IMAGE_SCENES: readonly string[] = [
  "pet_skateboard", "daily_ootd", "toss_run", "switch_to_silk", "studio_look", "french_elegance", "finger_swipe", "smooth_transition",
  "kiss_pro", "snow_night_kiss", "eternal_kiss", "cheers_2026", "fight_pro", "hug_pro", "heart_gesture_pro",
];

/** The single-image scenes (204), from Kling's page. */
export const SINGLE_IMAGE_SCENES: readonly string[] = (
  "net_the_fish birthday_board summer_fireworks blow_blaze champagne_birthday pet_working_daily pet_roll_window pet_crash_earth " +
  "makeup_style hair_dressup barbie_transform critter_paste wiggle_faces_pets paw_headbang food_splash dj_pet pet_diving disco_paws " +
  "pet_fitness j_var_live pet_burst idol_live beast_striker african_sway jealousy_sway chubby_fish shrug_dance soccer_star bra_hot_dance " +
  "arg_hot_dance fra_hot_dance bra_goal arg_goal por_goal victory_slide samba_fever bicycle_kick football_dance_2 red_card_sent_off " +
  "football_dance magic_world_vlog magic_world_vlog_9_16 air_dunk whirling_beverage_9_16 tennis_trend tennis_trend_9_16 " +
  "football_live_9_16 whirling_beverage f1_live football_live spielberg_transition korean_baseball_9_16 korean_baseball " +
  "tiny_beast_printer landmark_reveal winter_charm flash_ride maestro_of_magic magic_carpet_ride good_luck_spirit shooting_star " +
  "sparkler_wand sovereign_scepter dirt_rush return_of_the_king dance_with_dragon minimalist_light martial_meow sassy_shake " +
  "knock_at_a_door_revenge palm_sized_figure_pro prank_box perler_beads spring_bloom get_rich_quick make_it_rain twist_shake " +
  "the_hip_sway send_my_love funky_martian wealth_drive the_high_kick the_exercise lucky_veggie flash_drive shush_my_dreams " +
  "advent_of_flora raid_check fortune_in_motion chinese_trend sedan_chair_dance skyfall good_luck_dance laicai_dance yangge_dance " +
  "color_mixing lantern_festival_cuju unique_firework unique_spring_couplets horse_mask fortune_knocks_cartoon tangyuan_to_animal " +
  "hot_feet_dance swag_dance pigeon_dance bloodline_dance chanel_dance cute_dance love_theme_song pumpitup_dance city_to_village " +
  "fortune_god_transform new_year_feast ring_in_new horse_year_firework crystal_horse drunk_dance drunk_dance_pet daoma_dance " +
  "bouncy_dance smooth_sailing_dance new_year_greeting lion_dance prosperity great_success golden_horse_fortune red_packet_box " +
  "lucky_horse_year lucky_red_packet lucky_money_come lion_dance_pet dumpling_making_pet fish_making_pet pet_red_packet lantern_glow " +
  "expression_challenge overdrive heart_gesture_dance poping martial_arts running nezha motorcycle_dance subject_3_dance " +
  "ghost_step_dance phantom_jewel zoom_out dollar_rain_pro pet_bee_pro countdown_teleport santa_random_surprise magic_match_tree " +
  "bullet_time_360 happy_birthday birthday_star thumbs_up_pro tiger_hug_pro pet_lion_pro surprise_bouquet bouquet_drop " +
  "glamour_photo_shoot box_of_joy first_toast_of_the_year my_santa_pic santa_gift steampunk_christmas snowglobe christmas_photo_shoot " +
  "ornament_crash santa_express instant_christmas coronation_of_frost building_sweater spark_in_the_snow scarlet_and_snow " +
  "bullet_time_lite jumping_ginger_joy pure_white_wings black_wings golden_wing pink_pink_wings venomous_spider throne_of_king " +
  "luminous_elf woodland_elf guardian_spirit swish_swish snowboarding witch_transform vampire_transform pumpkin_head_transform " +
  "demon_transform mummy_transform zombie_transform cute_pumpkin_transform halloween_escape pet_moto_rider running_man 3d_cartoon_2 " +
  "pet_dance swing_swing day_to_night surfsurf skateskate"
).split(" ");

const FIELDS = ["effect_scene", "input", "callback_url", "external_task_id"];

export function validateEffects(body: unknown): CreateValidation {
  if (!isRecord(body)) return refuse("the request body must be a JSON object");
  const unknown = unknownField(body, FIELDS);
  if (unknown !== undefined) return refuse(`${unknown} is not a parameter of effects`);
  const scene = body.effect_scene;
  if (typeof scene !== "string" || scene === "") return refuse("effect_scene is required (one of the scenes Kling lists)");
  const dual = DUAL_IMAGE_SCENES.includes(scene);
  if (!dual && !SINGLE_IMAGE_SCENES.includes(scene)) return refuse(`effect_scene ${scene} is not one of the scenes Kling lists`);
  if (!isRecord(body.input)) return refuse("input is required (an object with image, or images for a dual-image scene)");
  const input = body.input;
  const unknownInput = unknownField(input, ["image", "images"]);
  if (unknownInput !== undefined) return refuse(`input.${unknownInput} is not a parameter of effects`);
  if (dual) {
    if (input.image !== undefined) return refuse(`input.image is not taken by ${scene}: a dual-image scene takes input.images (two images)`);
    if (!Array.isArray(input.images) || input.images.length !== 2) return refuse(`input.images must hold exactly 2 images for ${scene}`);
    for (const [index, image] of input.images.entries()) {
      const problem = imageProblemOf(`input.images[${index}]`, image);
      if (problem) return refuse(problem);
    }
  } else {
    if (input.images !== undefined) return refuse(`input.images is not taken by ${scene}: a single-image scene takes input.image`);
    if (input.image === undefined || input.image === "") return refuse(`input.image is required for ${scene}`);
    const problem = imageProblemOf("input.image", input.image);
    if (problem) return refuse(problem);
  }
  const options = legacyOptions(body);
  if (typeof options === "string") return refuse(options);
  return {
    ok: true,
    create: {
      model: "effects",
      mode: "std",
      duration: String(EFFECT_SECONDS),
      ...options,
      units: videoUnits(EFFECT_RATES_MODEL, "720p", EFFECT_SECONDS, false),
      result: "video",
    },
  };
}
