// The overlay page's slice slider: each position loads that axial slice's PNG.
const slider = document.getElementById("overlay-slice");
const image = document.getElementById("overlay-image");
slider.addEventListener("input", () => {
  document.getElementById("overlay-index").textContent = slider.value;
  image.src = `${image.dataset.base}${slider.value}.png`;
});
