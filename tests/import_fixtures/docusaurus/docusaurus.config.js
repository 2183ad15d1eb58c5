// @ts-check
/** @type {import('@docusaurus/types').Config} */
const config = {
  title: 'Widget help',
  url: 'https://docs.example.com',
  baseUrl: '/help/',
  i18n: {defaultLocale: 'en', locales: ['en', 'ru']},
};

module.exports = config;
