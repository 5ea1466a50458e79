// UI texts. Add a language by adding one more object with the same keys.
'use strict';
window.kassaTexts = {
  en: {
    noProvider: 'No payment provider', toggleTheme: 'Switch light/dark theme', cart: 'Cart',
    itemOrSku: 'Item or SKU', itemPlaceholder: 'Name', rate: 'Rate', quantity: 'Qty',
    unitPrice: 'Unit price', vatRate: 'VAT', discount: 'Discount', addLine: 'Add line',
    item: 'Item', amount: 'Amount', remove: 'Remove', edit: 'Edit',
    emptyCart: 'The cart is empty. Type an item name or scan a barcode to add a line.',
    totals: 'Totals', orderDiscount: 'Order discount', net: 'Net', vat: 'VAT', gross: 'Gross',
    toPay: 'To pay', charge: 'Charge', newSale: 'New sale',
    shortcuts: 'F2 new line · F9 charge · Esc cancel · Del remove line',
    noProviderYet: 'Charging needs a payment provider; provider support is not in this version yet.',
  },
  nb: {
    noProvider: 'Ingen betalingsleverandør', toggleTheme: 'Bytt mellom lyst og mørkt tema', cart: 'Handlekurv',
    itemOrSku: 'Vare eller varenr.', itemPlaceholder: 'Navn', rate: 'Sats', quantity: 'Antall',
    unitPrice: 'Enhetspris', vatRate: 'MVA', discount: 'Rabatt', addLine: 'Legg til',
    item: 'Vare', amount: 'Beløp', remove: 'Fjern', edit: 'Endre',
    emptyCart: 'Handlekurven er tom. Skriv et varenavn eller skann en strekkode for å legge til en linje.',
    totals: 'Sum', orderDiscount: 'Rabatt på ordre', net: 'Netto', vat: 'MVA', gross: 'Brutto',
    toPay: 'Å betale', charge: 'Ta betalt', newSale: 'Nytt salg',
    shortcuts: 'F2 ny linje · F9 ta betalt · Esc avbryt · Del fjern linje',
    noProviderYet: 'Betaling krever en betalingsleverandør; det er ikke med i denne versjonen ennå.',
  },
};
